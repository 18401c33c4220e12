using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>Cases counted under one CPU × form.</summary>
/// <param name="Isa">The instruction set.</param>
/// <param name="Form">The form, or <c>refused</c> for cases the encoder had to refuse.</param>
/// <param name="Cases">Cases run.</param>
/// <param name="Passed">Cases that passed.</param>
/// <param name="Random">Of the cases, how many were random.</param>
/// <param name="Unverified">Passed cases of which some step only the disassemblers could judge (a known emulator defect).</param>
/// <param name="Longer">Passed cases an external encoder answered with more bytes than the shortest form (informational).</param>
/// <param name="HostSkipped">Cases not run on this machine's CPU because their pages cannot be mapped here (<c>--on host|both</c>).</param>
/// <param name="States">The intermediate states of the cases' re-points: checked re-points, quiesced ones, states run, states failed.</param>
public sealed record FormTally(InstructionSet Isa, string Form, int Cases, int Passed, int Random, int Unverified, int Longer = 0, int HostSkipped = 0, StateCounts States = default)
{
    public int Failed => Cases - Passed;
}

/// <summary>What one <c>hcrlab verify</c> run found.</summary>
/// <param name="Rows">Cases per CPU × form.</param>
/// <param name="Failures">The failing cases kept for the report.</param>
/// <param name="Elapsed">How long the run took.</param>
/// <param name="Seed">The seed of the random cases, given or chosen: <c>--seed</c> with it replays the run.</param>
/// <param name="Encoder">The external encoder's command, or null for the shipped encoders.</param>
/// <param name="Shard">The part of the run this was, or null for the whole run.</param>
/// <param name="HostNotes">With <c>--on host|both</c>: per instruction set, whether and how it ran on this machine's CPU.</param>
public sealed record VerificationReport(
    IReadOnlyList<FormTally> Rows,
    IReadOnlyList<CaseResult> Failures,
    TimeSpan Elapsed,
    string Seed,
    string? Encoder = null,
    Shard? Shard = null,
    IReadOnlyList<string>? HostNotes = null)
{
    public int HostSkipped => Rows.Sum(r => r.HostSkipped);

    public int Longer => Rows.Sum(r => r.Longer);

    public int Cases => Rows.Sum(r => r.Cases);

    public int Passed => Rows.Sum(r => r.Passed);

    public int Failed => Rows.Sum(r => r.Failed);

    public int Unverified => Rows.Sum(r => r.Unverified);

    public StateCounts States => Rows.Aggregate(default(StateCounts), (sum, r) => sum + r.States);

    public bool AllPassed => Failed == 0;
}
