using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// Draws the history charts (<see cref="HistoryChart.Build"/>) of every stored run with ScottPlot, one SVG each, into
/// <c>RESULTS/plots/</c>, and writes <c>RESULTS/plots/README.md</c>, the overview page that shows them all.
/// </summary>
public static class HistoryPlot
{
    private const int Width = 760;
    private const int Height = 340;

    public static int Run(string resultsRoot)
    {
        var runs = StoredRun.LoadAll(resultsRoot);
        var charts = HistoryChart.Build(runs);
        string plots = Path.Combine(resultsRoot, "plots");
        Directory.CreateDirectory(plots);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chart in charts)
        {
            string file = chart.FileName("svg");
            Render(chart, Path.Combine(plots, file));
            written.Add(file);
        }

        // Charts of an earlier layout (or a benchmark since removed from every run) would linger unlinked.
        foreach (string stale in Directory.EnumerateFiles(plots, "*.svg").Where(f => !written.Contains(Path.GetFileName(f))))
        {
            File.Delete(stale);
        }

        File.WriteAllText(Path.Combine(plots, "README.md"), Overview(charts));
        Console.WriteLine($"HcrLab.Perf plot: {runs.Count} runs, {charts.Count} charts in {plots}");
        return 0;
    }

    /// <summary>Draws <paramref name="chart"/> into an image file (SVG or PNG by extension): a line per series, the confidence interval as error bars.</summary>
    public static void Render(HistoryChart chart, string path)
    {
        var runs = chart.Runs;
        var position = runs.Select((run, i) => (run, i)).ToDictionary(x => x.run, x => (double)x.i);
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < chart.Series.Count; i++)
        {
            var series = chart.Series[i];
            double[] xs = [.. series.Points.Select(p => position[p.Run])];
            double[] ys = [.. series.Points.Select(p => p.Value)];
            var line = plot.Add.Scatter(xs, ys, palette.GetColor(i));
            line.LegendText = series.Label;
            line.LineWidth = 2;
            line.MarkerSize = 6;
            if (series.Points.Any(p => p.Margin > 0))
            {
                var bars = plot.Add.ErrorBar(xs, ys, [.. series.Points.Select(p => double.IsNaN(p.Margin) ? 0 : p.Margin)]);
                bars.Color = line.Color;
            }
        }

        plot.Title(chart.Title);
        plot.YLabel(chart.Unit);
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. runs.Select((_, i) => (double)i)], [.. runs]);
        // From zero, so a line's height reads as a proportion, up to a quarter above the highest value: a run with a wide
        // interval (one noisy iteration) clips its bar rather than flattening every line.
        plot.Axes.SetLimitsY(0, chart.Series.SelectMany(s => s.Points).Max(p => p.Value) * 1.25);
        plot.Axes.SetLimitsX(-0.5, runs.Count - 0.5);
        plot.ShowLegend(Edge.Bottom);
        int height = Height + (20 * chart.Series.Count);
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
        {
            // Skia numbers clip paths from a counter of the whole process: numbered per file instead, a chart's SVG
            // changes only when its figures do, and a stored run's commit shows only the charts it moved.
            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            File.WriteAllText(path, Regex.Replace(plot.GetSvgXml(Width, height), @"\bcl_[0-9a-f]+\b", m =>
                $"clip{(ids.TryGetValue(m.Value, out int n) ? n : ids[m.Value] = ids.Count)}"));
        }
        else
        {
            plot.Save(path, Width, height); // PNG and the other bitmap formats, from the extension
        }
    }

    /// <summary>The overview page: every chart in its group, the symbol operations as a table (one row per operation, one column per N).</summary>
    public static string Overview(IReadOnlyList<HistoryChart> charts)
    {
        var text = new StringBuilder("""
            # Benchmark history

            Every run stored under `perf/results/`, oldest on the left (`perf/run` redraws this page). Lower is faster.
            Error bars are BenchmarkDotNet's 99.9% confidence interval; the C anchor's figures are medians without one.
            Runs from before a suite gained a parameter are drawn on the line of the value they measured (for example
            slot calls before direct slots existed, on the indirect-slot line).

            """);
        foreach (var group in charts.GroupBy(c => c.Group))
        {
            text.Append(CultureInfo.InvariantCulture, $"\n## {group.Key}\n\n");
            if (group.Key == HistoryChart.SymbolsGroup)
            {
                SymbolTable(text, [.. group]);
                continue;
            }

            foreach (var chart in group)
            {
                text.Append(CultureInfo.InvariantCulture, $"![{chart.Title}]({chart.FileName("svg")})\n");
            }
        }

        return text.ToString();
    }

    private static void SymbolTable(StringBuilder text, IReadOnlyList<HistoryChart> charts)
    {
        text.Append("ns per symbol: a benchmark invocation registers or looks up all N names, so its time ÷ N.\n\n");
        text.Append("| operation | " + string.Join(" | ", SymbolOperation.Sizes.Select(n => $"N = {n.ToString("N0", CultureInfo.InvariantCulture)}")) + " |\n");
        text.Append("|---|" + string.Concat(SymbolOperation.Sizes.Select(_ => "---|")) + "\n");
        foreach (var operation in SymbolOperation.All)
        {
            var cells = SymbolOperation.Sizes.Select(n => charts.FirstOrDefault(c => c.Id == $"symbols-{operation.Method}-N{n}") is { } chart
                ? $"![{chart.Title}]({chart.FileName("svg")})"
                : "–");
            text.Append(CultureInfo.InvariantCulture, $"| {operation.Label} | {string.Join(" | ", cells)} |\n");
        }
    }
}
