namespace HcrLab.Encoders;

/// <summary>Where a jump table puts its slots: every form, in both modes, fits in <see cref="Size"/> bytes at a slot aligned to <see cref="Alignment"/>.</summary>
public readonly record struct SlotLayout(int Size, int Alignment);

/// <summary>
/// The facts of one instruction set that the encoders, the runtime and the lab all read: the same members for every CPU,
/// so CPUs compare line by line.
/// </summary>
public sealed record CpuFacts
{
    /// <summary>The instruction set these facts describe.</summary>
    public required InstructionSet Isa { get; init; }

    /// <summary>Width of an address: 32 or 64. Address arithmetic wraps modulo 2^AddressBits.</summary>
    public required int AddressBits { get; init; }

    /// <summary>Bytes of a pointer (and of a literal): <see cref="AddressBits"/> / 8.</summary>
    public int PointerSize => AddressBits / 8;

    /// <summary>Alignment the CPU requires of a slot (its instruction alignment).</summary>
    public required int InstructionAlignment { get; init; }

    /// <summary>Alignment required of a target in the slot's own state, or in ARM state on ARM (Thumb targets only need bit 0 set).</summary>
    public required int TargetAlignment { get; init; }

    /// <summary>True on ARM, where bit 0 of a target selects Thumb state.</summary>
    public bool HasThumbBit => Isa is InstructionSet.A32 or InstructionSet.Thumb;

    /// <summary>The jump-table slot in which every form fits.</summary>
    public required SlotLayout TableSlot { get; init; }

    /// <summary>Registers a slot's code may clobber: the ABI's intra-procedure-call scratch registers, or none.</summary>
    public required string ClobberedRegisters { get; init; }

    /// <summary>True when changed instructions need explicit instruction-cache maintenance (ARM), false where caches are coherent (x86).</summary>
    public required bool NeedsCacheMaintenance { get; init; }

    /// <summary>Bytes written into padding between instructions and an aligned literal: a trapping instruction, never executed.</summary>
    public required byte[] PaddingPattern { get; init; }

    /// <summary>
    /// The widest store the CPU performs single-copy atomically when it is naturally aligned: 8 on x86 (Intel SDM Vol. 3A,
    /// 9.1.1, "Guaranteed Atomic Operations": an aligned quadword since the Pentium) and arm64 (Arm ARM B2.2.1), 4 on
    /// 32-bit ARM (ARMv7-A/R ARM A3.5.3; 64-bit accesses are atomic only with LPAE's LDRD/STRD).
    /// </summary>
    public required int MaxAtomicStore { get; init; }

    /// <summary>
    /// A branch to itself, as bytes: the "safe loop" a slot's entry may hold while its other bytes are rewritten (a caller
    /// that arrives spins there until the entry is written last), as HotSpot's x86 <c>NativeGeneralJump::replace_mt_safe</c>
    /// parks callers on <c>jmp $</c>.
    /// </summary>
    public required byte[] SelfLoop { get; init; }

    /// <summary>Bytes of a cache line, for reports of a store that straddles two (x86 and the ARM cores this lab models: 64).</summary>
    public int CacheLineBytes => 64;

    /// <summary>The highest address: 2^<see cref="AddressBits"/> − 1.</summary>
    public ulong MaxAddress => AddressBits == 64 ? ulong.MaxValue : (1UL << AddressBits) - 1;
}
