using System.Runtime.InteropServices;

namespace HcrLab.Perf.Infrastructure;

/// <summary>The libc calls the reload floors make by hand: dlopen with the runtime loader's flags, and stat.</summary>
internal static partial class PerfNative
{
    public const int RtldNow = 0x0002;
    public const int RtldLocal = 0x0000;

    private const string Libc = "libc.so.6";

    [LibraryImport(Libc, EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Dlopen(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "dlclose")]
    public static partial int Dlclose(nint handle);

    /// <summary><c>int stat(const char* path, struct stat* buffer)</c>; the buffer must hold 144 bytes (x86-64).</summary>
    [LibraryImport(Libc, EntryPoint = "stat")]
    public static unsafe partial int Stat(byte* path, byte* buffer);

    [LibraryImport(Libc, EntryPoint = "dlerror")]
    private static partial nint DlerrorPointer();

    public static string Dlerror() => Marshal.PtrToStringUTF8(DlerrorPointer()) ?? "unknown dlopen error";
}
