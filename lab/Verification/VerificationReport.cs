using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>Cases counted under one CPU × form.</summary>
/// <param name="Isa">The instruction set.</param>
/// <param name="Form">The form, or <c>refused</c> for cases the encoder had to refuse.</param>
/// <param name="Cases">Cases run.</param>
/// <param name="Passed">Cases that passed.</param>
/// <param name="Random">Of the cases, how many were random.</param>
/// <param name="Unverified">Passed cases of which some step only the disassemblers could judge (a known emulator defect).</param>
public sealed record FormTally(InstructionSet Isa, string Form, int Cases, int Passed, int Random, int Unverified)
{
    public int Failed => Cases - Passed;
}

/// <summary>A random case that failed: CsCheck's shrunk case, the seed that replays it, and the first failing case's details.</summary>
public sealed record RandomFailure(InstructionSet Isa, string Report, CaseResult? FirstFailure);

/// <summary>What one <c>hcrlab verify</c> run found.</summary>
public sealed record VerificationReport(
    IReadOnlyList<FormTally> Rows,
    IReadOnlyList<CaseResult> Failures,
    IReadOnlyList<RandomFailure> RandomFailures,
    TimeSpan Elapsed,
    string? Seed)
{
    public int Cases => Rows.Sum(r => r.Cases);

    public int Passed => Rows.Sum(r => r.Passed);

    public int Failed => Rows.Sum(r => r.Failed) + RandomFailures.Count(f => f.FirstFailure is null);

    public int Unverified => Rows.Sum(r => r.Unverified);

    public bool AllPassed => Failed == 0 && RandomFailures.Count == 0;
}
