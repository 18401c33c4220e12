using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// What the runtime needs to know about the CPU it runs on, as data: one instance per CPU, in <c>Cpu/&lt;cpu&gt;/</c>,
/// with the same members for every CPU, so code that depends on the CPU asks <see cref="Current"/> instead of naming
/// one. Today: the ELF facts a module file must match (<see cref="ElfCheck"/>). The runtime itself runs on x86-64
/// only until the arm64 port (issue 14); the arm64 facts already serve the checks that do not run its code.
/// </summary>
public sealed record HostCpu
{
    /// <summary>x86-64 (System V psABI for AMD64, "Relocation Types").</summary>
    public static readonly HostCpu X64 = new()
    {
        Name = "x86-64",
        Architecture = Architecture.X64,
        ElfMachine = 62,            // EM_X86_64
        RelativeRelocation = 8,     // R_X86_64_RELATIVE
        IrelativeRelocation = 37,   // R_X86_64_IRELATIVE
    };

    /// <summary>AArch64 (ELF for the Arm 64-bit Architecture, "Dynamic relocations").</summary>
    public static readonly HostCpu Arm64 = new()
    {
        Name = "AArch64",
        Architecture = Architecture.Arm64,
        ElfMachine = 183,           // EM_AARCH64
        RelativeRelocation = 1027,  // R_AARCH64_RELATIVE
        IrelativeRelocation = 1032, // R_AARCH64_IRELATIVE
    };

    /// <summary>The CPU of this process, or null on a CPU the runtime knows nothing of.</summary>
    public static HostCpu? Current { get; } = For(RuntimeInformation.ProcessArchitecture);

    /// <summary>The name a message gives the CPU.</summary>
    public required string Name { get; init; }

    /// <summary>The .NET name of the CPU.</summary>
    public required Architecture Architecture { get; init; }

    /// <summary>The ELF header's <c>e_machine</c> of a module built for this CPU.</summary>
    public required ushort ElfMachine { get; init; }

    /// <summary>The dynamic relocation type "image base + addend" (what DT_RELACOUNT counts).</summary>
    public required uint RelativeRelocation { get; init; }

    /// <summary>The dynamic relocation type "call the resolver at image base + addend".</summary>
    public required uint IrelativeRelocation { get; init; }

    /// <summary>The facts of a CPU, or null for one the runtime knows nothing of.</summary>
    public static HostCpu? For(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64,
        Architecture.Arm64 => Arm64,
        _ => null,
    };
}
