using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// The slot writer's C half (<c>Cpu/&lt;cpu&gt;/hcrcode.c</c>, linked into libhcrguard): after instructions change, the
/// cache maintenance that makes every core fetch the new ones (arm64: <c>DC CVAU</c>, <c>DSB ISH</c>, <c>IC IVAU</c>,
/// <c>DSB ISH</c>, <c>ISB</c>), plus the re-map that drops qemu-user's stale translations where they are seen. Called
/// only where <see cref="HostCpu.NeedsCacheMaintenance"/>; the x86-64 half does nothing.
/// </summary>
internal static partial class CodeCache
{
    private const string Library = "hcrguard";

    /// <summary>
    /// Instructions at [<paramref name="code"/>, +<paramref name="length"/>) of the executable view at
    /// <paramref name="view"/> (memfd <paramref name="fd"/> from offset 0) changed: make them the ones that run.
    /// </summary>
    /// <exception cref="HcrException">The re-map failed.</exception>
    public static void Written(nint view, int fd, nint code, int length)
    {
        int error = CodeWritten(view, fd, code, (nuint)length);
        if (error != 0)
        {
            throw new HcrException($"cannot publish the instructions written at 0x{code:x} (+{length}): re-mapping the executable view failed with errno {error}");
        }
    }

    /// <summary>True when this process sees stale translations of code written through a second mapping (qemu-user).</summary>
    public static bool StaleTranslations => CodeStaleTranslations() != 0;

    [LibraryImport(Library, EntryPoint = "hcr_code_written")]
    private static partial int CodeWritten(nint view, int fd, nint code, nuint length);

    [LibraryImport(Library, EntryPoint = "hcr_code_stale_translations")]
    private static partial int CodeStaleTranslations();
}
