using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;

namespace HcrLab.Perf.Infrastructure;

/// <summary>The configuration every run of the suites uses: per-symbol columns and the JSON and Markdown reports.</summary>
public static class PerfConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddColumn(PerSymbolColumn.Time, PerSymbolColumn.Bytes)
        .AddExporter(JsonExporter.Full, MarkdownExporter.GitHub)
        .WithOptions(ConfigOptions.DisableLogFile);
}
