using System.Globalization;
using System.Net;
using System.Text;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// One SVG per benchmark over every stored run (the subdirectories of perf/results, in name order, i.e. by date): the
/// mean as a line, the confidence interval as a bar at each run. Written to <c>RESULTS/plots/</c> with an index.
/// </summary>
public static class HistoryPlot
{
    private const int Width = 640;
    private const int Height = 240;
    private const int Left = 80;
    private const int Right = 50;
    private const int Top = 30;
    private const int Bottom = 50;

    public static int Run(string resultsRoot)
    {
        var runs = Directory.EnumerateDirectories(resultsRoot)
            .Where(d => Path.GetFileName(d) != "plots")
            .Order(StringComparer.Ordinal)
            .Select(d => (Run: Path.GetFileName(d), Results: BenchmarkResult.Load(d)))
            .Where(r => r.Results.Count > 0)
            .ToList();
        string plots = Path.Combine(resultsRoot, "plots");
        Directory.CreateDirectory(plots);
        var index = new StringBuilder("# Benchmark history\n\nOne plot per benchmark: the mean per run, with its confidence interval.\n\n");
        foreach (var key in runs.SelectMany(r => r.Results.Select(x => x.Key)).Distinct().Order(StringComparer.Ordinal))
        {
            var points = runs
                .Select(r => (r.Run, Result: r.Results.LastOrDefault(x => x.Key == key)))
                .Where(p => p.Result is not null)
                .Select(p => (p.Run, p.Result!))
                .ToList();
            string file = FileName(key);
            File.WriteAllText(Path.Combine(plots, file), Svg(key, points));
            index.Append(CultureInfo.InvariantCulture, $"- [{key}]({file})\n");
        }

        File.WriteAllText(Path.Combine(plots, "README.md"), index.ToString());
        Console.WriteLine($"HcrLab.Perf plot: {runs.Count} runs, plots in {plots}");
        return 0;
    }

    public static string Svg(string title, IReadOnlyList<(string Run, BenchmarkResult Result)> points)
    {
        // A run without an interval (a single iteration) has NaN bounds: it is drawn as a point without a bar.
        double max = points.Select(p => double.IsNaN(p.Result.Upper) ? p.Result.Mean : p.Result.Upper).Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max() * 1.1;
        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        double X(int i) => Left + (points.Count == 1 ? plotWidth / 2 : i * plotWidth / (points.Count - 1));
        double Y(double value) => Top + plotHeight - (Math.Max(value, 0) / max * plotHeight);
        string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"18\" font-size=\"13\">{WebUtility.HtmlEncode(title)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Width - Right}\" y2=\"{Top + plotHeight}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotHeight}\" stroke=\"black\"/>\n");
        for (int tick = 0; tick <= 4; tick++)
        {
            double value = max * tick / 4;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{N(Y(value) + 4)}\" text-anchor=\"end\">{Label(value)}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{N(Y(value))}\" x2=\"{Width - Right}\" y2=\"{N(Y(value))}\" stroke=\"#ddd\"/>\n");
        }

        if (points.Count > 1)
        {
            string line = string.Join(' ', points.Select((p, i) => (p, i)).Where(x => !double.IsNaN(x.p.Result.Mean)).Select(x => $"{N(X(x.i))},{N(Y(x.p.Result.Mean))}"));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{line}\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n");
        }

        for (int i = 0; i < points.Count; i++)
        {
            var r = points[i].Result;
            if (double.IsNaN(r.Mean))
            {
                continue;
            }

            if (!double.IsNaN(r.Lower) && !double.IsNaN(r.Upper))
            {
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{N(X(i))}\" y1=\"{N(Y(r.Lower))}\" x2=\"{N(X(i))}\" y2=\"{N(Y(r.Upper))}\" stroke=\"#1f77b4\"/>\n");
            }

            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{N(X(i))}\" cy=\"{N(Y(r.Mean))}\" r=\"3\" fill=\"#1f77b4\"><title>{WebUtility.HtmlEncode(points[i].Run)}: {Label(r.Mean)}</title></circle>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(X(i))}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{WebUtility.HtmlEncode(points[i].Run)}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{Height - 8}\" fill=\"#555\">mean per operation; bars: confidence interval</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Label(double ns) => ns switch
    {
        >= 1e6 => (ns / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + " ms",
        >= 1e3 => (ns / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + " µs",
        _ => ns.ToString("0.##", CultureInfo.InvariantCulture) + " ns",
    };

    private static string FileName(string key)
    {
        var name = new StringBuilder();
        foreach (char c in key)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_');
        }

        return name + ".svg";
    }
}
