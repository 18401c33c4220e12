using System.Text.Json;
using System.Text.Json.Serialization;

namespace HcrLab.Lab.Cli;

/// <summary>
/// The JSON form of a verification report (<c>--json</c>, schema <see cref="VerifySchema"/>, every field in docs/json.md):
/// written by <c>verify</c> and <c>report merge</c>, read back by <c>report merge</c>.
/// </summary>
public sealed record ReportDocument(
    string? Schema,
    int Passed,
    int Failed,
    int Cases,
    double Seconds,
    string? Seed,
    int Unverified,
    IReadOnlyList<ReportRow> Rows,
    IReadOnlyList<ReportFailure> Failures,
    int Longer = 0,
    string? Encoder = null,
    IReadOnlyList<string>? Shards = null,
    int? HostSkipped = null,
    IReadOnlyList<string>? HostNotes = null)
{
    public const string VerifySchema = "hcrlab.verify/1";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>One CPU × form of a report; <c>Repoints</c> … <c>StatesFailed</c> are the intermediate-state check's counts (see <c>StateCounts</c>).</summary>
public sealed record ReportRow(
    string Arch, string Form, int Cases, int Random, int Passed, int Failed, int Unverified, int Longer = 0, int HostSkipped = 0,
    int Repoints = 0, int Quiesced = 0, int States = 0, int StatesFailed = 0);

public sealed record ReportStep(string What, string Form, string Bytes, IReadOnlyList<string> Disassembly);

public sealed record ReportFailure(
    string Arch,
    string? Form,
    string Mode,
    string Slot,
    string Target,
    string SecondTarget,
    string Distance,
    string Reason,
    IReadOnlyList<ReportStep> Steps);
