using HcrLab.Perf.Reporting;
using static HcrLab.Tests.Perf.StoredResults;

namespace HcrLab.Tests.Perf;

/// <summary>
/// perf/run's history charts and overview page, from two fixed runs: the figures are chosen so each expected value
/// follows by hand (ns per symbol = time per invocation ÷ N, the anchor's figure as it stands, units scaled by 10³).
/// </summary>
[Category("Perf")]
public sealed class HistoryChartTests
{
    private StoredResults _results = null!;

    [SetUp]
    public void WriteRuns()
    {
        _results = new StoredResults();
        // The first run predates direct slots and change reports: its slot call and check have no Form / Detection.
        _results.Run("2026-01-01", [
            new("SymbolLookupBenchmarks", "GetProc", "N=1000", Mean: 50_000, Lower: 44_000, Upper: 56_000),
            new("SlotCallBenchmarks", "CallThroughSlot", "", Mean: 2.0, Lower: 1.75, Upper: 2.25),
            new("ReloadCheckBenchmarks", "ReloadNeededNoChange", "Modules=100", Mean: 150_000, Lower: 140_000, Upper: 160_000),
        ],
        nimJsonLines: """
            {"runtime":"nim","op":"GetProc","n":1000,"ns_per_op":80.5}
            {"runtime":"nim","op":"CallThroughSlot","n":100000000,"ns_per_op":3.25}
            """);
        _results.Run("2026-01-02", [
            new("SymbolLookupBenchmarks", "GetProc", "N=1000", Mean: 30_000, Lower: 29_000, Upper: 31_000),
            new("SymbolLookupBenchmarks", "FloorGet", "N=1000", Mean: 8_000, Lower: 7_000, Upper: 9_000),
            new("SlotCallBenchmarks", "CallThroughSlot", "Form=Indirect", Mean: 1.75, Lower: 1.625, Upper: 1.875),
            new("SlotCallBenchmarks", "CallThroughSlot", "Form=Direct", Mean: 1.5, Lower: 1.4, Upper: 1.6),
            new("ReloadCheckBenchmarks", "ReloadNeededNoChange", "Modules=100&Detection=Poll", Mean: 148_000, Lower: 146_000, Upper: 150_000),
            new("ReloadCheckBenchmarks", "ReloadNeededNoChange", "Modules=100&Detection=Notify", Mean: 1_500, Lower: 1_400, Upper: 1_600),
            new("ReloadBenchmarks", "ReloadOneChanged", "Modules=100", Mean: 1_500_000, Lower: 1_400_000, Upper: 1_600_000),
            new("ReloadBenchmarks", "CopyAndLoadByHand", "Modules=100", Mean: 1_000_000, Lower: 900_000, Upper: 1_100_000),
            new("ReloadBenchmarks", "ReloadAllChanged", "Modules=100", Mean: 40_000_000, Lower: 38_000_000, Upper: 42_000_000),
        ],
        nimJsonLines: """{"runtime":"nim","op":"GetProc","n":1000,"ns_per_op":82}""",
        hcrlabCJsonLines: """{"runtime":"hcrlab","op":"GetProc","n":1000,"ns_per_op":45}""");
    }

    [TearDown]
    public void Delete() => _results.Dispose();

    private IReadOnlyList<HistoryChart> Charts() => HistoryChart.Build(StoredRun.LoadAll(_results.Root));

    private static IEnumerable<string> Points(HistoryChart chart, string series) =>
        chart.Series.Single(s => s.Label == series).Points.Select(p => $"{p.Run}: {p.Value} ± {p.Margin}");

    [Test]
    public void ASymbolChartIsNanosecondsPerSymbolWithNimOnTheSameChart()
    {
        var chart = Charts().Single(c => c.Id == "symbols-GetProc-N1000");
        Assert.Multiple(() =>
        {
            Assert.That(chart.Title, Is.EqualTo("get proc, N = 1,000"));
            Assert.That(chart.Unit, Is.EqualTo("ns per symbol"));
            // 50,000 ns for 1,000 lookups is 50 ns each; the interval's upper bound 56,000 gives ± 6,000 / 1,000 = 6.
            // 30,000 / 1,000 = 30, ± (31,000 − 30,000) / 1,000 = 1.
            Assert.That(Points(chart, "HcrLab, .NET host (BenchmarkDotNet)"), Is.EqualTo(new[] { "2026-01-01: 50 ± 6", "2026-01-02: 30 ± 1" }));
            // The anchor's ns_per_op is already per symbol, and a median without an interval.
            Assert.That(Points(chart, "Nim 1.6, C anchor"), Is.EqualTo(new[] { "2026-01-01: 80.5 ± NaN", "2026-01-02: 82 ± NaN" }));
            Assert.That(Points(chart, "HcrLab, C anchor"), Is.EqualTo(new[] { "2026-01-02: 45 ± NaN" }));
            Assert.That(Points(chart, "floor: an empty C ABI call from .NET"), Is.EqualTo(new[] { "2026-01-02: 8 ± 1" }));
            // No run measured N = 100,000: no chart, rather than an empty one.
            Assert.That(Charts().Select(c => c.Id), Does.Not.Contain("symbols-GetProc-N100000"));
        });
    }

    [Test]
    public void AHistoryLineSurvivesAParameterAddedLater()
    {
        var charts = Charts();
        var calls = charts.Single(c => c.Id == "calls-through-a-slot");
        Assert.Multiple(() =>
        {
            // The first run's slots were indirect (no Form parameter yet): its 2.0 ns continues the indirect line.
            // (Margins are binary fractions, so upper − mean is exact.)
            Assert.That(Points(calls, "HcrLab, .NET caller, indirect slots"), Is.EqualTo(new[] { "2026-01-01: 2 ± 0.25", "2026-01-02: 1.75 ± 0.125" }));
            Assert.That(calls.Series.Single(s => s.Label == "HcrLab, .NET caller, direct slots").Points.Select(p => p.Run), Is.EqualTo(new[] { "2026-01-02" }));
            Assert.That(Points(calls, "Nim 1.6, C anchor"), Is.EqualTo(new[] { "2026-01-01: 3.25 ± NaN" }));
            // The first run polled (no Detection parameter yet): 150 µs joins the polling line, not the change reports'.
            var polled = charts.Single(c => c.Id == "ReloadCheckBenchmarks-Modules=100&Detection=Poll");
            Assert.That(Points(polled, "ReloadNeededNoChange"), Is.EqualTo(new[] { "2026-01-01: 150 ± 10", "2026-01-02: 148 ± 2" }));
            Assert.That(polled.Unit, Is.EqualTo("µs"));
            var notified = charts.Single(c => c.Id == "ReloadCheckBenchmarks-Modules=100&Detection=Notify");
            Assert.That(Points(notified, "ReloadNeededNoChange"), Is.EqualTo(new[] { "2026-01-02: 1.5 ± 0.1" }));
            // One changed beside its floor, in ms: 1,500,000 ns = 1.5 ms, 1,000,000 ns = 1 ms. All changed (40 ms) has a
            // chart of its own, so it does not flatten those two.
            var reload = charts.Single(c => c.Id == "ReloadBenchmarks-Modules=100");
            Assert.That(reload.Unit, Is.EqualTo("ms"));
            Assert.That(reload.Series.Select(s => $"{s.Label} {s.Points.Single().Value}"), Is.EqualTo(new[] { "ReloadOneChanged 1.5", "CopyAndLoadByHand 1" }));
            var all = charts.Single(c => c.Id == "ReloadBenchmarks-Modules=100-ReloadAllChanged");
            Assert.That((all.Title, all.Unit, all.Series.Single().Points.Single().Value), Is.EqualTo(("ReloadBenchmarks.ReloadAllChanged, Modules=100", "ms", 40.0)));
        });
    }

    [Test]
    public void ASuiteWithoutParametersGetsOneChartNamedAfterIt()
    {
        // 500 ns is under 1,000, so the unit stays ns; ± (600 − 500) = 100.
        var run = new StoredRun("2026-01-03", [new BenchmarkResult("PlainBenchmarks", "Run", "", 500, 400, 600, null)], [], []);
        var chart = HistoryChart.Build([run]).Single(c => c.Group == "PlainBenchmarks");
        Assert.That((chart.Id, chart.Title, chart.Unit, chart.FileName("svg")), Is.EqualTo(("PlainBenchmarks", "PlainBenchmarks", "ns", "PlainBenchmarks.svg")));
        Assert.That(Points(chart, "Run"), Is.EqualTo(new[] { "2026-01-03: 500 ± 100" }));
    }

    [Test]
    public void AChartDrawnAgainIsTheSameFile()
    {
        // Stored plots are committed with every run: a chart whose figures did not move must not change (Skia numbers
        // clip paths from a counter of the whole process, which a second drawing has advanced).
        var chart = Charts().Single(c => c.Id == "symbols-GetProc-N1000");
        string first = Path.Combine(_results.Root, "first.svg"), second = Path.Combine(_results.Root, "second.svg");
        HistoryPlot.Render(chart, first);
        HistoryPlot.Render(chart, second);
        Assert.That(File.ReadAllText(second), Is.EqualTo(File.ReadAllText(first)));
    }

    [TestCase("SlotCallBenchmarks", "", ExpectedResult = "Form=Indirect")]
    [TestCase("SlotCallBenchmarks", "Form=Direct", ExpectedResult = "Form=Direct")]
    [TestCase("ReloadCheckBenchmarks", "Modules=100", ExpectedResult = "Modules=100&Detection=Poll")]
    [TestCase("ReloadCheckBenchmarks", "Modules=100&Detection=Notify", ExpectedResult = "Modules=100&Detection=Notify")]
    [TestCase("ReloadBenchmarks", "Modules=100", ExpectedResult = "Modules=100")]
    public string ParametersAddedLaterAreFilledIn(string type, string parameters) => BenchmarkResult.WithAddedParameters(type, parameters);

    [Test]
    public void TheOverviewShowsEveryChartAndEveryImageExists()
    {
        string plots = Path.Combine(_results.Root, "plots");
        Directory.CreateDirectory(plots);
        File.WriteAllText(Path.Combine(plots, "a-chart-of-an-earlier-layout.svg"), "<svg/>");

        Assert.That(HistoryPlot.Run(_results.Root), Is.Zero);

        string overview = File.ReadAllText(Path.Combine(plots, "README.md"));
        var linked = System.Text.RegularExpressions.Regex.Matches(overview, @"!\[[^\]]*\]\(([^)]+)\)").Select(m => m.Groups[1].Value).ToList();
        var drawn = Directory.EnumerateFiles(plots, "*.svg").Select(Path.GetFileName).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(linked, Is.EquivalentTo(drawn), "every image linked once, and nothing drawn that is not linked (the stale SVG is gone)");
            Assert.That(linked, Has.Count.EqualTo(Charts().Count));
            // The symbol table: one row per operation, one column per N; unmeasured sizes are a dash.
            Assert.That(overview, Does.Contain("| get proc | ![get proc, N = 1,000](symbols-GetProc-N1000.svg) | – | – |"));
            Assert.That(overview, Does.Contain("| register proc, new name | – | – | – |"));
            string svg = File.ReadAllText(Path.Combine(plots, "symbols-GetProc-N1000.svg"));
            Assert.That(svg, Does.StartWith("<?xml").And.Contain("<svg"));
        });
    }
}
