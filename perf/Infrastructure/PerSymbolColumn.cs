using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// Divides a symbol benchmark's per-invocation figure by its N (one invocation handles all N names): the mean time or
/// the allocated bytes per symbol. Blank for benchmarks without an N parameter.
/// </summary>
public sealed class PerSymbolColumn : IColumn
{
    private readonly bool _bytes;

    private PerSymbolColumn(bool bytes) => _bytes = bytes;

    public static PerSymbolColumn Time { get; } = new(bytes: false);

    public static PerSymbolColumn Bytes { get; } = new(bytes: true);

    public string Id => _bytes ? "BytesPerSymbol" : "NsPerSymbol";

    public string ColumnName => _bytes ? "B/symbol" : "ns/symbol";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => _bytes ? 1 : 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => _bytes
        ? "Managed bytes allocated per symbol (Allocated / N)"
        : "Mean time per symbol in nanoseconds (Mean / N)";

    public static int? SymbolCount(BenchmarkCase benchmark) =>
        benchmark.Parameters.Items.FirstOrDefault(p => p.Name == "N")?.Value is int n && n > 0 ? n : null;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (SymbolCount(benchmarkCase) is not { } n || summary[benchmarkCase] is not { } report)
        {
            return "";
        }

        if (_bytes)
        {
            long? bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
            return bytes is { } b ? (b / (double)n).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) : "";
        }

        return report.ResultStatistics is { } statistics
            ? (statistics.Mean / n).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)
            : "";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(b => SymbolCount(b) is not null);
}
