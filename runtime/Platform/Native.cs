using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// Every libc call the runtime makes, in one place. The runtime is Linux only (on the CPUs <see cref="HostCpu"/> knows):
/// these are glibc's entry points and Linux's constants, which are the same on x86-64 and arm64 (arm64 uses the generic
/// values of asm-generic/mman-common.h, which x86-64's match). glibc 2.34 and later export the dl* functions from libc.
/// </summary>
internal static partial class Native
{
    // "libc" alone would probe libc.so, which on Debian is a linker script when libc6-dev is installed.
    private const string Libc = "libc.so.6";

    public const int ProtNone = 0;
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int ProtExec = 4;

    public const int MapShared = 0x01;
    public const int MapPrivate = 0x02;
    public const int MapFixed = 0x10;
    public const int MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000;

    /// <summary>Like MAP_FIXED, but fails with EEXIST instead of replacing a mapping (Linux 4.17+; older kernels treat it as a hint).</summary>
    public const int MapFixedNoReplace = 0x100000;

    public const uint MfdCloexec = 0x0001;

    public const int RtldNow = 0x0002;
    public const int RtldLocal = 0x0000;

    public static readonly nint MapFailed = -1;

    /// <summary>Throws unless the process runs on Linux, whose libc calls and /proc files these are.</summary>
    public static void RequireLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException(
                $"the HcrLab runtime supports Linux only (memfd_create, /proc/self/maps, dlopen); this process is {RuntimeInformation.OSDescription}");
        }
    }

    [LibraryImport(Libc, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Libc, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Libc, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    /// <summary>One address range for <see cref="ProcessVmReadv"/>: <c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public nint Base;
        public nuint Length;
    }

    public const int Efault = 14;

    /// <summary>Copies from this or another process's memory through the kernel: an unreadable range is EFAULT, not a fault.</summary>
    [LibraryImport(Libc, EntryPoint = "process_vm_readv", SetLastError = true)]
    public static unsafe partial nint ProcessVmReadv(int pid, IoVector* local, nuint localCount, IoVector* remote, nuint remoteCount, nuint flags);

    public const int InotifyNonblock = 0x800;
    public const int InotifyCloexec = 0x80000;
    public const int Eagain = 11;

    [LibraryImport(Libc, EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int InotifyInit1(int flags);

    [LibraryImport(Libc, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport(Libc, EntryPoint = "inotify_rm_watch", SetLastError = true)]
    public static partial int InotifyRmWatch(int fd, int watch);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Dlopen(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "dlsym", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint Dlsym(nint handle, string symbol);

    [LibraryImport(Libc, EntryPoint = "dlclose")]
    public static partial int Dlclose(nint handle);

    [LibraryImport(Libc, EntryPoint = "dlerror")]
    private static partial nint DlerrorRaw();

    /// <summary>
    /// Clears the loader's error state. Call it before dlopen/dlsym whose failure will be reported: it also binds dlerror
    /// itself, whose first call would otherwise make the marshaller resolve it (a dlsym) and lose the pending message.
    /// </summary>
    public static void ClearDlerror() => DlerrorRaw();

    /// <summary>The loader's last error message, or a generic text when it has none.</summary>
    public static string Dlerror() => Marshal.PtrToStringUTF8(DlerrorRaw()) ?? "unknown dynamic loader error";

    /// <summary>The text of the last errno, e.g. "EEXIST (File exists)".</summary>
    public static string LastErrorText()
    {
        int errno = Marshal.GetLastPInvokeError();
        return $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";
    }
}
