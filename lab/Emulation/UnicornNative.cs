using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

[assembly: InternalsVisibleTo("HcrLab.Tests")]

namespace HcrLab.Lab.Emulation;

/// <summary>
/// The raw Unicorn 2 C API, and the one place that finds the shared library. Nothing here leaves the emulation layer:
/// <see cref="UnicornEngine"/> turns handles, error codes and pointers into types and exceptions.
/// </summary>
internal static unsafe partial class UnicornNative
{
    private const string LibraryName = "unicorn";

    /// <summary>
    /// <c>UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2)</c>: control number 9, two arguments (bits 29..26 = 2), written
    /// (bit 30): 9 | 2 &lt;&lt; 26 | 1 &lt;&lt; 30.
    /// </summary>
    internal const int ControlRemoveTranslations = 0x4800_0009;

    /// <summary>
    /// The runtime package (<c>libunicorn2</c>) ships only the versioned file; the unversioned name exists only with the
    /// development package, so it is the fallback.
    /// </summary>
    internal static readonly string[] LibraryFiles = ["libunicorn.so.2", "libunicorn.so"];

    private static readonly Lazy<nint> Library = new(() => Load(LibraryFiles));

    // A static constructor (not a module initializer) runs before the first import is bound, and only if Unicorn is used.
    // SetDllImportResolver may be called once per assembly: this is the lab assembly's one resolver.
    static UnicornNative() => NativeLibrary.SetDllImportResolver(typeof(UnicornNative).Assembly, Resolve);

    /// <summary>Loads the library now, so a missing one is reported before any work starts.</summary>
    /// <exception cref="UnicornMissingException">No candidate file loads.</exception>
    internal static void EnsureLoaded() => _ = Library.Value;

    /// <summary>Loads the first of <paramref name="files"/> that loads.</summary>
    /// <exception cref="UnicornMissingException">None loads.</exception>
    internal static nint Load(IEnumerable<string> files)
    {
        foreach (var file in files)
        {
            if (NativeLibrary.TryLoad(file, out var handle))
            {
                return handle;
            }
        }

        throw new UnicornMissingException();
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == LibraryName ? Library.Value : 0;

    [LibraryImport(LibraryName)]
    internal static partial uint uc_version(uint* major, uint* minor);

    [LibraryImport(LibraryName)]
    internal static partial int uc_open(int arch, int mode, out UnicornHandle uc);

    /// <summary>Takes the raw handle: only <see cref="UnicornHandle.ReleaseHandle"/> calls it.</summary>
    [LibraryImport(LibraryName)]
    internal static partial int uc_close(nint uc);

    [LibraryImport(LibraryName)]
    internal static partial int uc_mem_map(UnicornHandle uc, ulong address, nuint size, uint perms);

    [LibraryImport(LibraryName)]
    internal static partial int uc_mem_write(UnicornHandle uc, ulong address, byte* bytes, nuint size);

    [LibraryImport(LibraryName)]
    internal static partial int uc_mem_read(UnicornHandle uc, ulong address, byte* bytes, nuint size);

    [LibraryImport(LibraryName)]
    internal static partial int uc_reg_write(UnicornHandle uc, int regid, ulong* value);

    [LibraryImport(LibraryName)]
    internal static partial int uc_reg_read(UnicornHandle uc, int regid, ulong* value);

    [LibraryImport(LibraryName)]
    internal static partial int uc_emu_start(UnicornHandle uc, ulong begin, ulong until, ulong timeout, nuint count);

    [LibraryImport(LibraryName)]
    internal static partial int uc_emu_stop(UnicornHandle uc);

    /// <summary>Returns a static C string: never freed, so it is declared as a pointer, not marshalled as a string.</summary>
    [LibraryImport(LibraryName)]
    internal static partial byte* uc_strerror(int code);

    /// <summary>
    /// <c>uc_ctl</c> is variadic in C. Fixed integer arguments pass in the same registers as variadic ones on linux-x64
    /// (System V), which is the only ABI the lab runs on; every control the lab uses takes two 64-bit arguments.
    /// </summary>
    [LibraryImport(LibraryName)]
    internal static partial int uc_ctl(UnicornHandle uc, int control, ulong a, ulong b);
}
