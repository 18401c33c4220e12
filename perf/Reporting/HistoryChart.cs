using System.Globalization;

namespace HcrLab.Perf.Reporting;

/// <summary>What one stored run under perf/results holds: its BenchmarkDotNet figures and the C anchor's for each runtime.</summary>
public sealed record StoredRun(string Name, IReadOnlyList<BenchmarkResult> Benchmarks, IReadOnlyList<AnchorFigure> Nim, IReadOnlyList<AnchorFigure> HcrLabC)
{
    /// <summary>Every run under <paramref name="resultsRoot"/> that holds any figure, in name order (by date).</summary>
    public static IReadOnlyList<StoredRun> LoadAll(string resultsRoot) =>
        [.. Directory.EnumerateDirectories(resultsRoot)
            .Where(d => Path.GetFileName(d) != "plots")
            .Order(StringComparer.Ordinal)
            .Select(d => new StoredRun(
                Path.GetFileName(d),
                BenchmarkResult.Load(d),
                AnchorFigure.Load(Path.Combine(d, "nim.jsonl")),
                AnchorFigure.Load(Path.Combine(d, "hcrlab-c.jsonl"))))
            .Where(r => r.Benchmarks.Count + r.Nim.Count + r.HcrLabC.Count > 0)];
}

/// <summary>One run's value on a history line, in the chart's unit; <see cref="Margin"/> is the confidence interval's half-width, NaN when none.</summary>
public sealed record HistoryPoint(string Run, double Value, double Margin);

/// <summary>One line of a history chart.</summary>
public sealed record HistorySeries(string Label, IReadOnlyList<HistoryPoint> Points);

/// <summary>
/// One history chart: runs along the x axis (oldest left), one line per series, values in <see cref="Unit"/>.
/// <see cref="Id"/> names its file; <see cref="Group"/> its section of the overview.
/// </summary>
public sealed record HistoryChart(string Id, string Group, string Title, string Unit, IReadOnlyList<HistorySeries> Series)
{
    public const string SymbolsGroup = "Registration and lookup through the C ABI";
    public const string CallsGroup = "Calls through a slot";

    /// <summary>
    /// Benchmarks drawn on a chart of their own rather than beside the suite's other methods, because they are an order
    /// of magnitude apart and would flatten the lines a reader compares (a reload of one module against its floor).
    /// </summary>
    private static readonly HashSet<(string Type, string Method)> OwnChart = [("ReloadBenchmarks", "ReloadAllChanged")];

    /// <summary>The runs that have a point on this chart, in run order.</summary>
    public IReadOnlyList<string> Runs => [.. Series.SelectMany(s => s.Points).Select(p => p.Run).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>
    /// The charts a reader looks at, from every stored run:
    /// one per symbol operation and N in ns per symbol (a benchmark invocation handles all N names, so its time ÷ N),
    /// with the floor, the C anchor against HcrLab and the C anchor against Nim on the same chart;
    /// one of the time per call through a slot, HcrLab's and Nim's;
    /// and one per other suite and parameter set, a line per benchmark method (those in <see cref="OwnChart"/> apart).
    /// </summary>
    public static IReadOnlyList<HistoryChart> Build(IReadOnlyList<StoredRun> runs)
    {
        var charts = new List<HistoryChart>();
        foreach (var operation in SymbolOperation.All)
        {
            foreach (int n in SymbolOperation.Sizes)
            {
                HistoryPoint? PerSymbol(StoredRun run, string method) =>
                    run.Benchmarks.LastOrDefault(b => b.Method == method && b.IntParameter("N") == n) is { } b && !double.IsNaN(b.Mean)
                        ? new HistoryPoint(run.Name, b.Mean / n, (b.Upper - b.Mean) / n)
                        : null;
                HistoryPoint? Anchor(StoredRun run, IReadOnlyList<AnchorFigure> figures) =>
                    figures.LastOrDefault(f => f.Op == operation.Method && f.N == n) is { } f ? new HistoryPoint(run.Name, f.NsPerOp, double.NaN) : null;
                charts.Add(Chart(
                    $"symbols-{operation.Method}-N{n}", SymbolsGroup, $"{operation.Label}, N = {n.ToString("N0", CultureInfo.InvariantCulture)}", "ns per symbol", runs,
                    ("HcrLab, .NET host (BenchmarkDotNet)", r => PerSymbol(r, operation.Method)),
                    ("HcrLab, C anchor", r => Anchor(r, r.HcrLabC)),
                    ("Nim 1.6, C anchor", r => Anchor(r, r.Nim)),
                    ("floor: an empty C ABI call from .NET", r => PerSymbol(r, operation.Floor))));
            }
        }

        HistoryPoint? Slot(StoredRun run, string form) =>
            run.Benchmarks.LastOrDefault(b => b.Type == "SlotCallBenchmarks" && b.Method == "CallThroughSlot" && b.Parameter("Form") == form) is { } b
                ? new HistoryPoint(run.Name, b.Mean, b.Upper - b.Mean)
                : null;
        HistoryPoint? AnchorCall(StoredRun run, IReadOnlyList<AnchorFigure> figures, string op) =>
            figures.LastOrDefault(f => f.Op == op) is { } f ? new HistoryPoint(run.Name, f.NsPerOp, double.NaN) : null;
        charts.Add(Chart(
            "calls-through-a-slot", CallsGroup, "call through a slot", "ns per call", runs,
            ("HcrLab, .NET caller, direct slots", r => Slot(r, "Direct")),
            ("HcrLab, .NET caller, indirect slots", r => Slot(r, "Indirect")),
            ("HcrLab, C anchor", r => AnchorCall(r, r.HcrLabC, "CallThroughSlot")),
            ("Nim 1.6, C anchor", r => AnchorCall(r, r.Nim, "CallThroughSlot")),
            ("plain indirect call, C anchor (Nim's run)", r => AnchorCall(r, r.Nim, "CallIndirect"))));

        var symbolSuites = new HashSet<string> { "SymbolRegistrationBenchmarks", "SymbolLookupBenchmarks" };
        var others = runs.SelectMany(r => r.Benchmarks)
            .Where(b => !symbolSuites.Contains(b.Type))
            .GroupBy(b => (b.Type, b.Parameters, Own: OwnChart.Contains((b.Type, b.Method)) ? b.Method : ""))
            .OrderBy(g => g.Key.Type, StringComparer.Ordinal).ThenBy(g => g.Key.Parameters, StringComparer.Ordinal).ThenBy(g => g.Key.Own, StringComparer.Ordinal);
        foreach (var group in others)
        {
            var (type, parameters, own) = group.Key;
            double largest = group.Max(b => b.Mean);
            var (unit, scale) = largest >= 1e6 ? ("ms", 1e6) : largest >= 1e3 ? ("µs", 1e3) : ("ns", 1.0);
            string id = string.Join('-', new[] { type, parameters, own }.Where(part => part.Length > 0));
            string title = string.Join(", ", new[] { own.Length > 0 ? $"{type}.{own}" : type, parameters.Replace("&", ", ", StringComparison.Ordinal) }.Where(part => part.Length > 0));
            charts.Add(Chart(id, type, title, unit, runs,
                [.. group.Select(b => b.Method).Distinct().Select(method => (method, (Func<StoredRun, HistoryPoint?>)(r =>
                    r.Benchmarks.LastOrDefault(b => b.Type == type && b.Parameters == parameters && b.Method == method) is { } b
                        ? new HistoryPoint(r.Name, b.Mean / scale, (b.Upper - b.Mean) / scale)
                        : null)))]));
        }

        return [.. charts.Where(c => c.Series.Count > 0)];
    }

    /// <summary>The file name for a chart: its id with anything but letters, digits, '.' and '-' replaced by '_'.</summary>
    public string FileName(string extension) =>
        string.Concat(Id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_')) + "." + extension;

    /// <summary>A chart of the series that have at least one point; NaN means and intervals count as none.</summary>
    private static HistoryChart Chart(string id, string group, string title, string unit, IReadOnlyList<StoredRun> runs, params (string Label, Func<StoredRun, HistoryPoint?> Point)[] series) =>
        new(id, group, title, unit, [.. series
            .Select(s => new HistorySeries(s.Label, [.. runs.Select(s.Point).OfType<HistoryPoint>().Where(p => !double.IsNaN(p.Value))]))
            .Where(s => s.Points.Count > 0)]);
}
