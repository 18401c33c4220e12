using HcrLab.Encoders;

namespace HcrLab.Lab.Emulation;

/// <summary>
/// How the lab drives one instruction set in Unicorn, as data: which engine, which registers hold the PC, the result, the
/// stack pointer and the return address, and which registers a trampoline must leave unchanged. Register ids are those of
/// Unicorn 2.0.1's <c>uc_x86_reg</c>, <c>uc_arm_reg</c> and <c>uc_arm64_reg</c> enumerations.
/// </summary>
public sealed record CpuProfile
{
    public required InstructionSet Isa { get; init; }

    public required UnicornArch Arch { get; init; }

    /// <summary>A32 and Thumb share the ARM mode: one engine runs both, bit 0 of the start address picks the state.</summary>
    public required UnicornMode Mode { get; init; }

    public required int AddressBits { get; init; }

    /// <summary>True when a slot is entered in Thumb state, i.e. at its address with bit 0 set.</summary>
    public bool StartsInThumb => Isa == InstructionSet.Thumb;

    public required CpuRegister ProgramCounter { get; init; }

    /// <summary>The register a target stub sets: the return-value register of the platform's C calling convention.</summary>
    public required CpuRegister Result { get; init; }

    /// <summary>
    /// Checked after every run against the value it had on entry (x86: on entry plus the popped return address, since the
    /// stub's <c>ret</c> pops it).
    /// </summary>
    public required CpuRegister StackPointer { get; init; }

    /// <summary>The link register, set to the halt address before a run and checked to still hold it; null on x86, which returns through the stack.</summary>
    public required CpuRegister? LinkRegister { get; init; }

    /// <summary>
    /// General registers that a trampoline must leave unchanged: each gets a distinct sentinel before a run. Every general
    /// register except the result, the stack pointer and the link register (checked on their own) and, on arm64, the
    /// intra-procedure-call scratch registers x16 and x17.
    /// </summary>
    public required IReadOnlyList<CpuRegister> Preserved { get; init; }

    /// <summary>
    /// General registers the ABI lets a veneer clobber (arm64: the intra-procedure-call registers x16 and x17), which
    /// <see cref="Preserved"/> leaves out. An external encoder declares its own scratch set; the others of these are
    /// then checked too.
    /// </summary>
    public IReadOnlyList<CpuRegister> Scratch { get; init; } = [];

    /// <summary>Every general register a slot could clobber unseen by the checks on the result, stack and link registers.</summary>
    public IEnumerable<CpuRegister> General => Preserved.Concat(Scratch);

    public ulong AddressMask => AddressBits == 64 ? ulong.MaxValue : (1UL << AddressBits) - 1;

    public static CpuProfile For(InstructionSet isa) => isa switch
    {
        InstructionSet.I386 => I386,
        InstructionSet.Amd64 => Amd64,
        InstructionSet.A32 => A32,
        InstructionSet.Thumb => Thumb,
        InstructionSet.Arm64 => Arm64,
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "unknown instruction set"),
    };

    public static IReadOnlyList<CpuProfile> All => [I386, Amd64, A32, Thumb, Arm64];

    private static CpuProfile I386 { get; } = new()
    {
        Isa = InstructionSet.I386,
        Arch = UnicornArch.X86,
        Mode = UnicornMode.Bits32,
        AddressBits = 32,
        ProgramCounter = new("eip", 26),
        Result = new("eax", 19),
        StackPointer = new("esp", 30),
        LinkRegister = null,
        Preserved = [new("ebx", 21), new("ecx", 22), new("edx", 24), new("esi", 29), new("edi", 23), new("ebp", 20)],
    };

    private static CpuProfile Amd64 { get; } = new()
    {
        Isa = InstructionSet.Amd64,
        Arch = UnicornArch.X86,
        Mode = UnicornMode.Bits64,
        AddressBits = 64,
        ProgramCounter = new("rip", 41),
        Result = new("rax", 35),
        StackPointer = new("rsp", 44),
        LinkRegister = null,
        Preserved =
        [
            new("rbx", 37), new("rcx", 38), new("rdx", 40), new("rsi", 43), new("rdi", 39), new("rbp", 36),
            .. Numbered("r", 8, 15, firstId: 106),
        ],
    };

    private static CpuProfile A32 { get; } = Arm(InstructionSet.A32);

    private static CpuProfile Thumb { get; } = Arm(InstructionSet.Thumb);

    private static CpuProfile Arm64 { get; } = new()
    {
        Isa = InstructionSet.Arm64,
        Arch = UnicornArch.Arm64,
        Mode = UnicornMode.Arm,
        AddressBits = 64,
        ProgramCounter = new("pc", 260),
        Result = new("x0", 199),
        StackPointer = new("sp", 4),
        LinkRegister = new("x30", 2),

        // x0..x28 are consecutive ids from 199; x29 and x30 sit at the front of the enumeration.
        Preserved = [.. Numbered("x", 1, 15, firstId: 200), .. Numbered("x", 18, 28, firstId: 217), new("x29", 1)],
        Scratch = Numbered("x", 16, 17, firstId: 215),
    };

    private static CpuProfile Arm(InstructionSet isa) => new()
    {
        Isa = isa,
        Arch = UnicornArch.Arm,
        Mode = UnicornMode.Arm,
        AddressBits = 32,
        ProgramCounter = new("pc", 11),
        Result = new("r0", 66),
        StackPointer = new("sp", 12),
        LinkRegister = new("lr", 10),
        Preserved = Numbered("r", 1, 12, firstId: 67),
    };

    private static CpuRegister[] Numbered(string prefix, int first, int last, int firstId) =>
        [.. Enumerable.Range(first, last - first + 1).Select(n => new CpuRegister($"{prefix}{n}", firstId + n - first))];
}
