using System.Runtime.InteropServices;
using HcrLab.Encoders;

namespace HcrLab.Runtime;

/// <summary>
/// What the runtime needs to know about the CPU it runs on, as data: one instance per CPU, in <c>Cpu/&lt;cpu&gt;/</c>,
/// with the same members for every CPU, so code that depends on the CPU asks <see cref="Current"/> instead of naming
/// one: the ELF facts a module file must match (<see cref="ElfCheck"/>), and the jump table's instruction set, slot
/// geometry, bad-call thunk and the reach its executable memory is placed in (<see cref="JumpTable"/>,
/// <see cref="ExecutableMemory"/>). The runtime runs on both.
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
        Isa = InstructionSet.Amd64,

        // int3 padding, E9 rel32 at +3 (so that the displacement at +4 is 4-byte aligned and stored whole), and at +16 the
        // data form: jmp [rip+2], padding, the literal at +24.
        Slots = new SlotGeometry(DirectForm: "rel32", IndirectForm: "rip-indirect", DirectSize: 32, EntryOffset: 3, TailOffset: 16),
        DirectReach = 0x7FFF_0000, // rel32: ±2 GiB, less a margin

        // mov rdi, imm64 (the handle at +2); mov esi, imm32 (the index at +11; a 32-bit mov zero-extends); the jump at +15.
        BadCallThunk = new BadCallThunkTemplate(Size: 32, Alignment: 16,
            Code: [0x48, 0xBF, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0, 0, 0, 0], HandleOffset: 2, IndexOffset: 11, JumpOffset: 15),
    };

    /// <summary>AArch64 (ELF for the Arm 64-bit Architecture, "Dynamic relocations").</summary>
    public static readonly HostCpu Arm64 = new()
    {
        Name = "AArch64",
        Architecture = Architecture.Arm64,
        ElfMachine = 183,           // EM_AARCH64
        RelativeRelocation = 1027,  // R_AARCH64_RELATIVE
        IrelativeRelocation = 1032, // R_AARCH64_IRELATIVE
        Isa = InstructionSet.Arm64,

        // B imm26 at +0, udf at +4, and at +8 the data form: ldr x16, literal; br x16; the literal at +16; udf to +32.
        Slots = new SlotGeometry(DirectForm: "b", IndirectForm: "ldr-br", DirectSize: 32, EntryOffset: 0, TailOffset: 8),
        DirectReach = 0x07F0_0000, // B imm26: ±128 MiB, less a margin

        // ldr x0, +32 (0x58000000 | imm19 = 8 << 5 | Rt = 0: the handle at +32); ldr w1, +36 (0x18000000 | 9 << 5 | 1:
        // the index at +40); at +8 the jump (ldr x16, +8; br x16; its literal at +16); udf to +32.
        BadCallThunk = new BadCallThunkTemplate(Size: 48, Alignment: 16,
            Code: [0x00, 0x01, 0x00, 0x58, 0x21, 0x01, 0x00, 0x18], HandleOffset: 32, IndexOffset: 40, JumpOffset: 8),
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

    /// <summary>The instruction set of the jump table's slots and thunks (their encoder: <see cref="Encoder"/>).</summary>
    public required InstructionSet Isa { get; init; }

    /// <summary>The shared encoder of <see cref="Isa"/>: every slot and thunk jump is written with it.</summary>
    public IJumpEncoder Encoder => JumpEncoders.For(Isa);

    /// <summary>Where a jump-table slot puts its jumps.</summary>
    public required SlotGeometry Slots { get; init; }

    /// <summary>
    /// How far a direct slot's branch reaches, less a margin: the executable memory is placed so that its first bytes
    /// (where slots are carved first) are this near the modules' neighbourhood (<see cref="ExecutableMemory"/>).
    /// </summary>
    public required ulong DirectReach { get; init; }

    /// <summary>The bad-call thunk a released slot jumps to.</summary>
    public required BadCallThunkTemplate BadCallThunk { get; init; }

    /// <summary>True when changed instructions need cache maintenance before other threads run them (the encoder's facts).</summary>
    public bool NeedsCacheMaintenance => Encoder.Facts.NeedsCacheMaintenance;

    /// <summary>The facts of this process's CPU, when the runtime runs here: Linux on x86-64 or arm64.</summary>
    /// <exception cref="PlatformNotSupportedException">Another operating system or CPU.</exception>
    public static HostCpu RequireCurrent()
    {
        if (!OperatingSystem.IsLinux() || Current is not { } cpu)
        {
            throw new PlatformNotSupportedException(
                "the HcrLab runtime supports linux-x64 and linux-arm64 (memfd_create, /proc/self/maps, dlopen and the jump " +
                $"slots of those CPUs); this process is {RuntimeInformation.OSDescription} on {RuntimeInformation.ProcessArchitecture}");
        }

        return cpu;
    }

    /// <summary>The facts of a CPU, or null for one the runtime knows nothing of.</summary>
    public static HostCpu? For(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64,
        Architecture.Arm64 => Arm64,
        _ => null,
    };
}
