using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>
/// One verification case: write a slot that jumps to <see cref="Target"/>, run it, re-point it to
/// <see cref="SecondTarget"/>, run it, re-point it back, run it. <see cref="Form"/> null lets the encoder choose.
/// </summary>
/// <param name="Isa">The instruction set of the slot.</param>
/// <param name="Form">The form to force, or null for the encoder's choice.</param>
/// <param name="Mode">The patch mode.</param>
/// <param name="Slot">The slot's address.</param>
/// <param name="Target">The first target (on ARM, bit 0 selects Thumb state).</param>
/// <param name="SecondTarget">The target the slot is re-pointed to after it has executed.</param>
/// <param name="Distance">What the case probes, for reports: <c>near</c>, <c>farthest+</c>, <c>past-</c>, <c>wrap</c>, <c>random</c>, …</param>
public sealed record JumpCase(InstructionSet Isa, string? Form, PatchMode Mode, ulong Slot, ulong Target, ulong SecondTarget, string Distance)
{
    /// <summary>What the encoder must do with the first write, by the lab's own oracle.</summary>
    public (string? Form, UnencodableReason? Refusal) Expected { get; } = ReachOracle.Expect(Isa, Form, Mode, Slot, Target);

    public override string ToString() =>
        $"{Isa.ShortName()} {Form ?? "auto"} {Mode.ToString().ToLowerInvariant()} slot=0x{Slot:X} target=0x{Target:X} then=0x{SecondTarget:X} ({Distance})";
}
