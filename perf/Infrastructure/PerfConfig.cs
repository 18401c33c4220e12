using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// The configuration every run of the suites uses: per-symbol columns, and besides the default reports (Markdown, CSV,
/// HTML) the brief JSON report: statistics with confidence intervals but not every measurement, so a stored run stays
/// small.
/// </summary>
public static class PerfConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddColumn(PerSymbolColumn.Time, PerSymbolColumn.Bytes)
        .AddExporter(JsonExporter.Brief)
        .WithOptions(ConfigOptions.DisableLogFile);
}
