using System.Runtime.InteropServices;

namespace HcrLab.Perf.Infrastructure;

/// <summary>The libc calls the reload floor makes by hand: the same dlopen flags as the runtime's loader.</summary>
internal static partial class PerfNative
{
    public const int RtldNow = 0x0002;
    public const int RtldLocal = 0x0000;

    private const string Libc = "libc.so.6";

    [LibraryImport(Libc, EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Dlopen(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "dlclose")]
    public static partial int Dlclose(nint handle);

    [LibraryImport(Libc, EntryPoint = "dlerror")]
    private static partial nint DlerrorPointer();

    public static string Dlerror() => Marshal.PtrToStringUTF8(DlerrorPointer()) ?? "unknown dlopen error";
}
