using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>The libc calls for child processes and their groups.</summary>
internal static partial class Native
{
    public const int Sigkill = 9;

    /// <summary><c>kill(2)</c>: a negative <paramref name="pid"/> names the process group -pid.</summary>
    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
