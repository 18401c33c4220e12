namespace HcrLab.Lab.Disassembly;

/// <summary>What a disassembler we did not write makes of one encoded jump, and every way that differs from the plan.</summary>
/// <param name="Instructions">The decoded instructions, then any padding and the literal as data lines.</param>
/// <param name="DecodedTarget">
/// The target as the decoder sees it: a branch's destination, or the value of the literal the code loads (on ARM with
/// bit 0 as stored). Null when the bytes did not decode to the expected form.
/// </param>
/// <param name="Problems">Human-readable sentences, one per disagreement; empty when everything agrees.</param>
public sealed record DisassemblyReport(
    IReadOnlyList<DecodedInstruction> Instructions,
    ulong? DecodedTarget,
    IReadOnlyList<string> Problems)
{
    public bool Agrees => Problems.Count == 0;

    public override string ToString() =>
        string.Join(Environment.NewLine, Instructions.Select(i => i.ToString()).Concat(Problems.Select(p => "problem: " + p)));
}
