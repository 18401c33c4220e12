using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// The configuration every run of the suites uses: BenchmarkDotNet's default columns, loggers, analysers and
/// validators, per-symbol columns, and two reports: the GitHub Markdown table for people and the brief JSON (statistics
/// with confidence intervals, not every measurement) that <c>perf/compare</c>, the summary and the plots read. The
/// default CSV and HTML reports only repeat the Markdown in stored runs.
/// </summary>
public static class PerfConfig
{
    public static IConfig Create()
    {
        var defaults = DefaultConfig.Instance;
        return ManualConfig.CreateEmpty()
            .AddColumnProvider(defaults.GetColumnProviders().ToArray())
            .AddLogger(defaults.GetLoggers().ToArray())
            .AddAnalyser(defaults.GetAnalysers().ToArray())
            .AddValidator(defaults.GetValidators().ToArray())
            .AddColumn(PerSymbolColumn.Time, PerSymbolColumn.Bytes)
            .AddExporter(MarkdownExporter.GitHub, JsonExporter.Brief)
            .WithOptions(ConfigOptions.DisableLogFile);
    }
}
