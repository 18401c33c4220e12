using HcrLab.Perf.Reporting;

namespace HcrLab.Tests.Perf;

/// <summary>perf/compare flags a regression only past the threshold and outside the noise (non-overlapping intervals).</summary>
[Category("Perf")]
public sealed class ComparerTests
{
    private static BenchmarkResult Result(double mean, double margin) =>
        new("SlotCallBenchmarks", "CallThroughSlot", "", mean, mean - margin, mean + margin, null);

    [TestCase(100, 1, 105, 1, Comparer.Verdict.Same, TestName = "5% slower is under the 10% threshold")]
    [TestCase(100, 1, 120, 1, Comparer.Verdict.Slower, TestName = "20% slower with tight intervals is a regression")]
    [TestCase(100, 15, 120, 15, Comparer.Verdict.WithinNoise, TestName = "20% slower with overlapping intervals is noise")]
    [TestCase(100, 1, 80, 1, Comparer.Verdict.Faster, TestName = "20% faster with tight intervals is an improvement")]
    public void Verdicts(double oldMean, double oldMargin, double newMean, double newMargin, Comparer.Verdict expected)
    {
        var rows = Comparer.Compare([Result(oldMean, oldMargin)], [Result(newMean, newMargin)], thresholdPercent: 10);
        Assert.That(rows.Single().Verdict, Is.EqualTo(expected));
    }

    [Test]
    public void BenchmarksOnlyInOneRunAreNotCompared()
    {
        var other = new BenchmarkResult("ReloadBenchmarks", "ReloadOneChanged", "Modules=100", 1e6, 0.9e6, 1.1e6, null);
        Assert.That(Comparer.Compare([other], [Result(100, 1)], 10), Is.Empty);
    }
}
