using System.Globalization;
using System.Text.Json;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// One benchmark's figures from BenchmarkDotNet's full JSON report: mean and its confidence interval in ns per
/// operation (per invocation for the symbol suites, whose operation count is N), and allocated bytes per operation.
/// </summary>
/// <param name="Type">The benchmark class.</param>
/// <param name="Method">The benchmark method.</param>
/// <param name="Parameters">BenchmarkDotNet's parameter text, e.g. <c>N=1000</c>; empty when none.</param>
/// <param name="Mean">Mean ns per operation.</param>
/// <param name="Lower">The confidence interval's lower bound, ns.</param>
/// <param name="Upper">The confidence interval's upper bound, ns.</param>
/// <param name="AllocatedBytes">Managed bytes allocated per operation, when the memory diagnoser ran.</param>
/// <param name="Samples">Each measured iteration's ns per operation (BenchmarkDotNet's <c>OriginalValues</c>); empty when the report has none.</param>
public sealed record BenchmarkResult(string Type, string Method, string Parameters, double Mean, double Lower, double Upper, double? AllocatedBytes, IReadOnlyList<double>? Samples = null)
{
    /// <summary>
    /// Parameters a suite gained after runs were stored, with the value those older runs measured: a run without the
    /// parameter is read as if it had it, so compare and the history lines match it to the newer runs.
    /// </summary>
    private static readonly (string Type, string Parameter, string Before)[] AddedParameters =
    [
        ("SlotCallBenchmarks", "Form", "Indirect"),        // slots were indirect before direct slots existed
        ("ReloadCheckBenchmarks", "Detection", "Poll"),    // the runtime polled before change reports existed
    ];

    /// <summary>What identifies a benchmark across runs: <c>Type.Method(Parameters)</c>.</summary>
    public string Key => Parameters.Length == 0 ? $"{Type}.{Method}" : $"{Type}.{Method}({Parameters})";

    /// <summary>An integer parameter's value, e.g. N or Modules; null when absent.</summary>
    public int? IntParameter(string name) =>
        Parameter(name) is { } text && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;

    public string? Parameter(string name) =>
        Parameters.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2 && p[0] == name)
            .Select(p => p[1])
            .FirstOrDefault();

    /// <summary>
    /// <paramref name="parameters"/> with every parameter <paramref name="type"/> gained since, at the value runs
    /// before it measured (appended in BenchmarkDotNet's <c>A=1&amp;B=2</c> form).
    /// </summary>
    public static string WithAddedParameters(string type, string parameters)
    {
        var present = parameters.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)[0]).ToHashSet();
        var missing = AddedParameters.Where(a => a.Type == type && !present.Contains(a.Parameter)).Select(a => $"{a.Parameter}={a.Before}");
        return string.Join('&', parameters.Split('&', StringSplitOptions.RemoveEmptyEntries).Concat(missing));
    }

    /// <summary>
    /// Every benchmark in the BenchmarkDotNet JSON reports at <paramref name="path"/>: one file, or every
    /// <c>*-report-brief.json</c> or <c>*-report-full.json</c> under a directory. A benchmark that failed (no statistics)
    /// is left out. Parameters added to a suite since a report was written are filled in (<see cref="WithAddedParameters"/>).
    /// </summary>
    public static IReadOnlyList<BenchmarkResult> Load(string path)
    {
        IEnumerable<string> files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*-report-*.json", SearchOption.AllDirectories)
                .Where(f => f.EndsWith("-report-brief.json", StringComparison.Ordinal) || f.EndsWith("-report-full.json", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
            : File.Exists(path) ? [path] : throw new IOException($"{path}: no such file or directory");
        var results = new List<BenchmarkResult>();
        foreach (string file in files)
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var benchmark in document.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                if (!benchmark.TryGetProperty("Statistics", out var statistics) || statistics.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                double mean = Number(statistics.GetProperty("Mean"));
                var interval = statistics.GetProperty("ConfidenceInterval");
                double? allocated = benchmark.TryGetProperty("Memory", out var memory) && memory.ValueKind == JsonValueKind.Object
                    && memory.TryGetProperty("BytesAllocatedPerOperation", out var bytes) && bytes.ValueKind == JsonValueKind.Number
                    ? bytes.GetDouble()
                    : null;
                string type = benchmark.GetProperty("Type").GetString() ?? "";
                results.Add(new BenchmarkResult(
                    type,
                    benchmark.GetProperty("Method").GetString() ?? "",
                    WithAddedParameters(type, benchmark.TryGetProperty("Parameters", out var parameters) ? parameters.GetString() ?? "" : ""),
                    mean,
                    Number(interval.GetProperty("Lower")),
                    Number(interval.GetProperty("Upper")),
                    allocated,
                    statistics.TryGetProperty("OriginalValues", out var values) && values.ValueKind == JsonValueKind.Array
                        ? [.. values.EnumerateArray().Select(Number)]
                        : null));
            }
        }

        return results;
    }

    /// <summary>A number, or NaN where BenchmarkDotNet wrote one as a string (a single iteration has no interval).</summary>
    private static double Number(JsonElement element) => element.ValueKind == JsonValueKind.Number
        ? element.GetDouble()
        : double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : double.NaN;
}
