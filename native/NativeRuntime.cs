using System.Runtime.InteropServices;
using HcrLab.Runtime;

namespace HcrLab.Native;

/// <summary>
/// The one <see cref="HcrRuntime"/> of a process that loaded the native library. C and Nim hosts never construct it:
/// the first call of any export creates it with the default options (Nim's main module calls <c>hcrAddModule</c> and
/// <c>hcrRegisterGlobal</c> before <c>hcrInit</c>).
/// </summary>
internal static unsafe partial class NativeRuntime
{
    private static readonly Lock CreateLock = new();
    private static string? s_copyDirectory;

    /// <summary>Creates the runtime if none is alive; false (with one stderr line) when it cannot be created.</summary>
    public static bool Ensure()
    {
        if (HcrRuntime.Current is not null)
        {
            return true;
        }

        if (TryEnsure(out var error) is null)
        {
            Console.Error.WriteLine($"hcr: the runtime could not be created: {error!.GetType().Name}: {error.Message}");
            return false;
        }

        return true;
    }

    /// <summary>The runtime, created with the defaults if none is alive; null and the reason when it cannot be created.</summary>
    public static HcrRuntime? TryEnsure(out Exception? error)
    {
        error = null;
        if (HcrRuntime.Current is { } current)
        {
            return current;
        }

        lock (CreateLock)
        {
            try
            {
                return HcrRuntime.Current ?? Create(new HcrRuntimeOptions());
            }
            catch (Exception e)
            {
                error = e;
                return null;
            }
        }
    }

    /// <summary>Creates the runtime with <paramref name="options"/> (<c>hcrlabCreate</c>, or the first call's defaults).</summary>
    /// <exception cref="InvalidOperationException">The runtime exists already.</exception>
    /// <exception cref="PlatformNotSupportedException">Not linux-x64.</exception>
    public static HcrRuntime Create(HcrRuntimeOptions options)
    {
        lock (CreateLock)
        {
            if (HcrRuntime.Current is not null)
            {
                throw new InvalidOperationException(
                    "the runtime exists already: hcrlabCreate must come before every other call of the library, which creates it with the defaults");
            }

            var runtime = HcrRuntime.Create(options);
            // Hosts never dispose the runtime; the copies of loaded modules go when the process exits.
            s_copyDirectory = runtime.CopyDirectory;
            RemoveCopiesAtExit();
            return runtime;
        }
    }

    /// <summary>glibc's <c>atexit</c> is not a dynamic symbol; <c>__cxa_atexit</c> with no DSO handle runs at exit.</summary>
    [LibraryImport("libc.so.6", EntryPoint = "__cxa_atexit")]
    private static partial int CxaAtExit(delegate* unmanaged<nint, void> function, nint argument, nint dsoHandle);

    private static void RemoveCopiesAtExit()
    {
        try
        {
            _ = CxaAtExit(&RemoveCopies, 0, 0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc: the copies stay for the temp cleaner.
        }
    }

    [UnmanagedCallersOnly]
    private static void RemoveCopies(nint argument)
    {
        try
        {
            if (s_copyDirectory is { } directory && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the temp cleaner.
        }
    }

    /// <summary>
    /// Runs a reload with Nim's garbage collector paused when the process uses Nim's runtime library, as Nim's own
    /// runtime does: a collection during a reload would call GC marker procs and read type information that the reload
    /// is replacing.
    /// </summary>
    public static void ReloadWithNimGcPaused() => WithNimGcPaused(() =>
    {
        ModuleAbi.PerformCodeReload();
        return 0;
    });

    /// <summary><paramref name="reload"/> with Nim's collector paused (see <see cref="ReloadWithNimGcPaused"/>); exceptions pass.</summary>
    public static T WithNimGcPaused<T>(Func<T> reload)
    {
        var (disable, enable) = NimRtl.GcSwitches;
        if (disable != 0)
        {
            ((delegate* unmanaged<void>)disable)();
        }

        try
        {
            return reload();
        }
        finally
        {
            if (enable != 0)
            {
                ((delegate* unmanaged<void>)enable)();
            }
        }
    }

    /// <summary>Nim's runtime library, if the process loaded it (a Nim host with <c>--hotCodeReloading:on</c> always does).</summary>
    private static class NimRtl
    {
        private const int RtldNoLoad = 0x0004;

        /// <summary><c>void (*)(void)</c> pointers of <c>nimrtl_GC_disable</c> and <c>nimrtl_GC_enable</c>, or zeros.</summary>
        public static (nint Disable, nint Enable) GcSwitches
        {
            get
            {
                nint library = Runtime.Native.Dlopen("libnimrtl.so", Runtime.Native.RtldNow | RtldNoLoad);
                if (library == 0)
                {
                    return (0, 0);
                }

                nint disable = Runtime.Native.Dlsym(library, "nimrtl_GC_disable");
                nint enable = Runtime.Native.Dlsym(library, "nimrtl_GC_enable");
                Runtime.Native.Dlclose(library); // drops only the reference RTLD_NOLOAD took; the host's stays
                return disable != 0 && enable != 0 ? (disable, enable) : (0, 0);
            }
        }
    }
}
