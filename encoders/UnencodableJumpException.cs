namespace HcrLab.Encoders;

/// <summary>Why no bytes could be produced for a (slot, target) pair.</summary>
public enum UnencodableReason
{
    /// <summary>The target is farther than the form reaches (or, when no form was named, than any form reaches).</summary>
    OutOfReach,

    /// <summary>The target has the wrong alignment (an arm64 target not 4-aligned, an A32 target not word-aligned).</summary>
    TargetMisaligned,

    /// <summary>The slot address is not aligned as its instruction set requires.</summary>
    SlotMisaligned,

    /// <summary>The slot or the target lies outside the CPU's address space (beyond 4 GiB on a 32-bit CPU).</summary>
    BeyondAddressSpace,

    /// <summary>The form cannot switch into the target's instruction-set state (for example a <c>B</c> from A32 to Thumb).</summary>
    WrongTargetState,

    /// <summary>The form has no literal, so it cannot be used in <see cref="PatchMode.Data"/>.</summary>
    NotADataForm,
}

/// <summary>
/// Thrown when no correct encoding exists for a request. The encoders never fall back to wrong bytes: every refusal is
/// this exception, with the reason as a value that callers and tests can check.
/// </summary>
public sealed class UnencodableJumpException(
    InstructionSet isa, string? form, ulong slot, ulong target, UnencodableReason reason, string detail)
    : Exception($"{isa.ShortName()}{(form is null ? "" : " " + form)}: cannot jump from 0x{slot:X} to 0x{target:X}: {detail}")
{
    /// <summary>The instruction set of the encoder that refused.</summary>
    public InstructionSet Isa { get; } = isa;

    /// <summary>The form that was asked for, or null when the encoder was asked to choose one.</summary>
    public string? Form { get; } = form;

    /// <summary>The slot address of the refused pair.</summary>
    public ulong Slot { get; } = slot;

    /// <summary>The target of the refused pair (on ARM bit 0 selects Thumb state).</summary>
    public ulong Target { get; } = target;

    /// <summary>Why no bytes were produced, as a value callers and tests check.</summary>
    public UnencodableReason Reason { get; } = reason;

    /// <summary>The reason in words, without the addresses.</summary>
    public string Detail { get; } = detail;
}

/// <summary>Thrown when the bytes given for a slot are fewer than the planned encoding needs.</summary>
public sealed class SlotTooSmallException(InstructionSet isa, string form, int needed, int available)
    : Exception($"{isa.ShortName()} {form}: the encoding needs {needed} bytes but the slot has {available}")
{
    /// <summary>Bytes the planned encoding needs.</summary>
    public int Needed { get; } = needed;

    /// <summary>Bytes the slot that was given has.</summary>
    public int Available { get; } = available;
}
