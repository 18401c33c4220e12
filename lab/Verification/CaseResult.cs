using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;

namespace HcrLab.Lab.Verification;

/// <summary>One write of a case's slot (the first write or a re-point): what was planned, the bytes in emulated memory afterwards, and how they decode.</summary>
public sealed record CaseStep(string What, JumpPlan Plan, string Bytes, IReadOnlyList<DecodedInstruction> Disassembly);

/// <summary>The outcome of one case.</summary>
/// <param name="Case">The case.</param>
/// <param name="Row">The form the case counts under in reports: the forced form, the one the encoder chose, or <c>refused</c>.</param>
/// <param name="Failure">Why the case failed, or null when it passed.</param>
/// <param name="Steps">The writes made before the case passed or failed.</param>
/// <param name="Unverified">Why some step could not be judged by execution (a known emulator defect), or null.</param>
/// <param name="Note">Something worth knowing about a passing case that is not a failure (an external encoder's answer longer than the shortest form), or null.</param>
/// <param name="Answer">An external encoder's answer: its bytes and their disassembly (external encoders make no plan, so they have no steps).</param>
/// <param name="HostSkipped">Why the case was not run on this machine's CPU (<c>--on host|both</c>), or null.</param>
/// <param name="States">The intermediate states of the case's re-points (none for an external encoder, which makes no plans).</param>
public sealed record CaseResult(
    JumpCase Case, string Row, string? Failure, IReadOnlyList<CaseStep> Steps, string? Unverified = null, string? Note = null, CaseAnswer? Answer = null,
    string? HostSkipped = null, StateCounts States = default)
{
    public bool Passed => Failure is null;
}

/// <summary>The bytes an external encoder answered for a case, and how they decode.</summary>
public sealed record CaseAnswer(string Bytes, IReadOnlyList<DecodedInstruction> Disassembly);
