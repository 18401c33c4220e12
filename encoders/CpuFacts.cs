namespace HcrLab.Encoders;

/// <summary>Where a jump table puts its slots: every form, in both modes, fits in <see cref="Size"/> bytes at a slot aligned to <see cref="Alignment"/>.</summary>
public readonly record struct SlotLayout(int Size, int Alignment);

/// <summary>
/// The facts of one instruction set that the encoders, the runtime and the lab all read: the same members for every CPU,
/// so CPUs compare line by line.
/// </summary>
public sealed record CpuFacts
{
    public required InstructionSet Isa { get; init; }

    /// <summary>Width of an address: 32 or 64. Address arithmetic wraps modulo 2^AddressBits.</summary>
    public required int AddressBits { get; init; }

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

    public ulong MaxAddress => AddressBits == 64 ? ulong.MaxValue : (1UL << AddressBits) - 1;
}
