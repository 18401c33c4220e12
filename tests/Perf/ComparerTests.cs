using HcrLab.Perf.Reporting;

namespace HcrLab.Tests.Perf;

/// <summary>
/// perf/compare: Perfolizer's equivalence test over Mann–Whitney on the iterations, at α = 0.05 and a 10% threshold.
/// Each case's samples are chosen so the verdict follows by hand from the rank order (comments).
/// </summary>
[Category("Perf")]
public sealed class ComparerTests
{
    private static readonly double[] Steady = [99, 100, 100, 101, 101, 102];  // mean 100.5

    private static BenchmarkResult Result(params double[] samples) =>
        new("SlotCallBenchmarks", "CallThroughSlot", "Form=Direct", samples.Average(), samples.Min(), samples.Max(), null, samples);

    private static Comparer.Verdict Verdict(double[] old, double[] @new, double threshold = 10) =>
        Comparer.Compare([Result(old)], [Result(@new)], threshold, alpha: 0.05).Single().Verdict;

    [Test]
    public void ThirtyPercentSlowerInEveryIterationIsARegression() =>
        // Every new iteration (128–132) lies above every old one raised by 10% (≤ 112.2): complete separation of 6 and
        // 6 iterations, p = 1 / C(12, 6) = 1/924 ≈ 0.001 < 0.05.
        Assert.That(Verdict(Steady, [128, 129, 130, 130, 131, 132]), Is.EqualTo(Comparer.Verdict.Slower));

    [Test]
    public void ThirtyPercentFasterInEveryIterationIsAnImprovement() =>
        // The same separation the other way: every new iteration (70–72) below every old one lowered by 10% (≥ 90).
        Assert.That(Verdict(Steady, [70, 71, 71, 72, 72, 72]), Is.EqualTo(Comparer.Verdict.Faster));

    [Test]
    public void FivePercentSlowerIsUnderTheThreshold() =>
        // New 104–107 against old + 10% = 108.9–112.2: no iteration crosses the shifted old ones, and the mean moved
        // (105.5 / 100.5 − 1) ≈ 5% < 10%.
        Assert.That(Verdict(Steady, [104, 105, 105, 106, 106, 107]), Is.EqualTo(Comparer.Verdict.Same));

    [Test]
    public void TwentyPercentSlowerOnAverageButInterleavedIsNoise() =>
        // Old 50…150 and new 70…170 interleave (each new iteration is 20 above an old one, far less than the spread),
        // so no ordering test can be significant; the means moved 100 → 120, +20% > 10%.
        Assert.That(Verdict([50, 60, 100, 100, 140, 150], [70, 80, 120, 120, 160, 170]), Is.EqualTo(Comparer.Verdict.WithinNoise));

    [Test]
    public void ThreeIterationsASideCannotShowARegression() =>
        // BenchmarkDotNet's short job measures 3 iterations: the smallest one-sided p-value is 1 / C(6, 3) = 1/20 = 0.05,
        // never below α = 0.05, however far apart the runs are.
        Assert.That(Verdict([100, 100, 100], [300, 300, 300]), Is.EqualTo(Comparer.Verdict.TooFewIterations));

    [Test]
    public void AHigherThresholdAcceptsTheSameShift() =>
        // +29% with a 50% threshold: new 128–132 is below old × 1.5 (148.5–153), and 29% < 50%.
        Assert.That(Verdict(Steady, [128, 129, 130, 130, 131, 132], threshold: 50), Is.EqualTo(Comparer.Verdict.Same));

    [TestCase(3, 3, 1.0 / 20)]
    [TestCase(4, 4, 1.0 / 70)]
    [TestCase(6, 6, 1.0 / 924)]
    [TestCase(1, 5, 1.0 / 6)]
    [TestCase(0, 5, 1.0)]
    public void TheSmallestPValueIsOneOrderingAmongAll(int m, int n, double expected) =>
        Assert.That(Comparer.SmallestPValue(m, n), Is.EqualTo(expected).Within(1e-12));

    [Test]
    public void BenchmarksOnlyInOneRunAreNotCompared()
    {
        var other = new BenchmarkResult("ReloadBenchmarks", "ReloadOneChanged", "Modules=100", 1e6, 0.9e6, 1.1e6, null);
        Assert.That(Comparer.Compare([other], [Result(Steady)], 10), Is.Empty);
    }

    [Test]
    public void RunsFromStoredReportsAreComparedOnTheirIterations()
    {
        using var results = new StoredResults();
        // The old run predates the Form parameter: its slots were indirect, so it is compared with Form=Indirect.
        string old = results.Run("old", [new("SlotCallBenchmarks", "CallThroughSlot", "", 100.5, 99, 102, Steady)]);
        string @new = results.Run("new", [new("SlotCallBenchmarks", "CallThroughSlot", "Form=Indirect", 130, 128, 132, [128, 129, 130, 130, 131, 132])]);
        var output = new StringWriter();

        int status = Comparer.Run(old, @new, thresholdPercent: 10, alpha: 0.05, output);

        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(1), "a regression exits 1");
            // (130 / 100.5 − 1) × 100 = 29.35…%, shown to one decimal.
            Assert.That(output.ToString(), Does.Contain("| SlotCallBenchmarks.CallThroughSlot(Form=Indirect) | 100.5 ± 1.5 | 130 ± 2 | +29.4% | 6 → 6 | **SLOWER** |"));
            Assert.That(output.ToString(), Does.Contain("1 slower, 0 faster, 0 within noise, 0 with too few iterations, 1 compared"));
        });
    }
}
