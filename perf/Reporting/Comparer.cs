using System.Globalization;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// Compares two runs (result directories or BenchmarkDotNet JSON files) benchmark by benchmark. A benchmark is a
/// regression when its mean grew by more than the threshold <em>and</em> the two confidence intervals do not overlap
/// (the new lower bound is above the old upper bound), so noise alone is not flagged; a change past the threshold whose
/// intervals overlap is listed as "within noise". Exit status 1 when any benchmark regressed.
/// </summary>
public static class Comparer
{
    public enum Verdict
    {
        Same,
        Faster,
        Slower,
        WithinNoise,
    }

    public sealed record Row(string Key, BenchmarkResult Old, BenchmarkResult New, double ChangePercent, Verdict Verdict);

    public static int Run(string oldPath, string newPath, double thresholdPercent)
    {
        var rows = Compare(BenchmarkResult.Load(oldPath), BenchmarkResult.Load(newPath), thresholdPercent);
        Console.WriteLine($"| benchmark | old (ns) | new (ns) | change | verdict (threshold {thresholdPercent.ToString(CultureInfo.InvariantCulture)}%) |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            string verdict = row.Verdict switch
            {
                Verdict.Slower => "**SLOWER**",
                Verdict.Faster => "faster",
                Verdict.WithinNoise => "changed, within noise",
                _ => "",
            };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Key} | {row.Old.Mean:0.##} ± {row.Old.Upper - row.Old.Mean:0.##} | {row.New.Mean:0.##} ± {row.New.Upper - row.New.Mean:0.##} | {row.ChangePercent:+0.0;-0.0}% | {verdict} |"));
        }

        int slower = rows.Count(r => r.Verdict == Verdict.Slower);
        Console.WriteLine();
        Console.WriteLine($"{slower} slower, {rows.Count(r => r.Verdict == Verdict.Faster)} faster, {rows.Count(r => r.Verdict == Verdict.WithinNoise)} within noise, {rows.Count} compared");
        return slower > 0 ? 1 : 0;
    }

    public static IReadOnlyList<Row> Compare(IReadOnlyList<BenchmarkResult> old, IReadOnlyList<BenchmarkResult> @new, double thresholdPercent)
    {
        var before = old.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Last());
        var rows = new List<Row>();
        foreach (var now in @new.GroupBy(r => r.Key).Select(g => g.Last()).OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (!before.TryGetValue(now.Key, out var then) || then.Mean <= 0)
            {
                continue;
            }

            double change = ((now.Mean / then.Mean) - 1) * 100;
            bool pastThreshold = Math.Abs(change) > thresholdPercent;
            var verdict = !pastThreshold ? Verdict.Same
                : change > 0 && now.Lower > then.Upper ? Verdict.Slower
                : change < 0 && now.Upper < then.Lower ? Verdict.Faster
                : Verdict.WithinNoise;
            rows.Add(new Row(now.Key, then, now, change, verdict));
        }

        return rows;
    }
}
