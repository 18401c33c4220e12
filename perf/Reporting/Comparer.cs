using System.Globalization;
using Perfolizer.Mathematics.Common;
using Perfolizer.Mathematics.SignificanceTesting;
using Perfolizer.Mathematics.SignificanceTesting.MannWhitney;
using Perfolizer.Metrology;
using Pragmastat;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// Compares two runs (result directories or BenchmarkDotNet JSON files) benchmark by benchmark, on the measured
/// iterations themselves: Perfolizer's equivalence test over Mann–Whitney (what BenchmarkDotNet's own statistical-test
/// column uses) asks whether the new iterations are slower, or faster, than the old ones shifted by the threshold, at
/// significance level α. A benchmark is a regression only when that is significant; a mean that moved past the
/// threshold without it is "within noise". Exit status 1 when any benchmark regressed.
/// </summary>
public static class Comparer
{
    public enum Verdict
    {
        /// <summary>The mean moved less than the threshold, and the test found no shift past it.</summary>
        Same,
        Faster,
        Slower,
        /// <summary>The mean moved past the threshold, but the iterations do not show it at level α.</summary>
        WithinNoise,
        /// <summary>
        /// Too few iterations on a side for any outcome to reach α: the smallest p-value Mann–Whitney can give for m and n
        /// iterations is 1 / C(m + n, m) (the one ordering with every new iteration above every old one).
        /// </summary>
        TooFewIterations,
    }

    public sealed record Row(string Key, BenchmarkResult Old, BenchmarkResult New, double ChangePercent, Verdict Verdict);

    public static int Run(string oldPath, string newPath, double thresholdPercent, double alpha, TextWriter output)
    {
        var rows = Compare(BenchmarkResult.Load(oldPath), BenchmarkResult.Load(newPath), thresholdPercent, alpha);
        string threshold = thresholdPercent.ToString(CultureInfo.InvariantCulture);
        output.WriteLine($"| benchmark | old (ns) | new (ns) | change | iterations | verdict (threshold {threshold}%, α = {alpha.ToString(CultureInfo.InvariantCulture)}) |");
        output.WriteLine("|---|---:|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            string verdict = row.Verdict switch
            {
                Verdict.Slower => "**SLOWER**",
                Verdict.Faster => "faster",
                Verdict.WithinNoise => "changed, within noise",
                Verdict.TooFewIterations => "too few iterations to tell",
                _ => "",
            };
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Key} | {row.Old.Mean:0.##} ± {row.Old.Upper - row.Old.Mean:0.##} | {row.New.Mean:0.##} ± {row.New.Upper - row.New.Mean:0.##} | {row.ChangePercent:+0.0;-0.0}% | {Count(row.Old)} → {Count(row.New)} | {verdict} |"));
        }

        int slower = rows.Count(r => r.Verdict == Verdict.Slower);
        output.WriteLine();
        output.WriteLine($"{slower} slower, {rows.Count(r => r.Verdict == Verdict.Faster)} faster, {rows.Count(r => r.Verdict == Verdict.WithinNoise)} within noise, {rows.Count(r => r.Verdict == Verdict.TooFewIterations)} with too few iterations, {rows.Count} compared");
        return slower > 0 ? 1 : 0;
    }

    public static IReadOnlyList<Row> Compare(IReadOnlyList<BenchmarkResult> old, IReadOnlyList<BenchmarkResult> @new, double thresholdPercent, double alpha = 0.05)
    {
        var before = old.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Last());
        var threshold = Threshold.Parse(thresholdPercent.ToString(CultureInfo.InvariantCulture) + "%");
        var test = new SimpleEquivalenceTest(MannWhitneyTest.Instance);
        var rows = new List<Row>();
        foreach (var now in @new.GroupBy(r => r.Key).Select(g => g.Last()).OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (!before.TryGetValue(now.Key, out var then) || then.Mean <= 0)
            {
                continue;
            }

            double change = ((now.Mean / then.Mean) - 1) * 100;
            Verdict verdict;
            if (SmallestPValue(Count(then), Count(now)) >= alpha)
            {
                verdict = Verdict.TooFewIterations;
            }
            else
            {
                // Perform(x, y): Lesser means x (the old run) lies below y shifted back by the threshold, i.e. the new
                // run is slower by more than the threshold; Greater the reverse.
                verdict = test.Perform(new Sample([.. then.Samples!]), new Sample([.. now.Samples!]), threshold, new SignificanceLevel(alpha)) switch
                {
                    ComparisonResult.Lesser => Verdict.Slower,
                    ComparisonResult.Greater => Verdict.Faster,
                    _ => Math.Abs(change) > thresholdPercent ? Verdict.WithinNoise : Verdict.Same,
                };
            }

            rows.Add(new Row(now.Key, then, now, change, verdict));
        }

        return rows;
    }

    /// <summary>1 / C(m + n, m): the exact one-sided Mann–Whitney p-value of complete separation, the smallest there is.</summary>
    public static double SmallestPValue(int m, int n)
    {
        if (m < 1 || n < 1)
        {
            return 1;
        }

        double orderings = 1;
        for (int i = 1; i <= m; i++)
        {
            orderings = orderings * (n + i) / i;
        }

        return 1 / orderings;
    }

    private static int Count(BenchmarkResult result) => result.Samples?.Count ?? 0;
}
