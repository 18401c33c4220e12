using System.Text.Json;

namespace HcrLab.Tests.Perf;

/// <summary>
/// A perf/results tree written from fixed figures, in the shapes perf/run stores: a BenchmarkDotNet brief JSON report
/// per run (only the fields the readers use) and the C anchor's JSON lines. Lives in a 0700 temporary directory.
/// </summary>
internal sealed class StoredResults : IDisposable
{
    public StoredResults() => Root = Directory.CreateTempSubdirectory("hcrlab-perf-results-").FullName;

    public string Root { get; }

    /// <summary>One benchmark as BenchmarkDotNet reports it: <c>Samples</c> are the iterations' ns per operation.</summary>
    public sealed record Benchmark(string Type, string Method, string Parameters, double Mean, double Lower, double Upper, double[]? Samples = null);

    public string Run(string name, IEnumerable<Benchmark> benchmarks, string? nimJsonLines = null, string? hcrlabCJsonLines = null)
    {
        string run = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.Combine(run, "bdn", "results"));
        var report = new
        {
            Title = name,
            Benchmarks = benchmarks.Select(b => new
            {
                b.Type,
                b.Method,
                b.Parameters,
                Statistics = new
                {
                    OriginalValues = b.Samples ?? [b.Mean],
                    N = b.Samples?.Length ?? 1,
                    b.Mean,
                    ConfidenceInterval = new { b.Mean, b.Lower, b.Upper },
                },
            }),
        };
        File.WriteAllText(Path.Combine(run, "bdn", "results", "BenchmarkRun-joined-report-brief.json"), JsonSerializer.Serialize(report));
        if (nimJsonLines is not null)
        {
            File.WriteAllText(Path.Combine(run, "nim.jsonl"), nimJsonLines);
        }

        if (hcrlabCJsonLines is not null)
        {
            File.WriteAllText(Path.Combine(run, "hcrlab-c.jsonl"), hcrlabCJsonLines);
        }

        return run;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
