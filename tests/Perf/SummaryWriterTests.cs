using HcrLab.Perf.Reporting;

namespace HcrLab.Tests.Perf;

/// <summary>summary.md's no-change check: the runtime's default detection, and polling in runs from before change reports.</summary>
[Category("Perf")]
public sealed class SummaryWriterTests
{
    private static BenchmarkResult Check(string parameters, double mean) =>
        new("ReloadCheckBenchmarks", "ReloadNeededNoChange", BenchmarkResult.WithAddedParameters("ReloadCheckBenchmarks", parameters), mean, mean, mean, null);

    [Test]
    public void ARunFromBeforeChangeReportsIsJudgedByItsPolledCheck()
    {
        // 150,000 ns = 150 µs, 3.0× the 50 µs goal.
        string summary = SummaryWriter.Write([Check("Modules=100", 150_000)], [], [], TestContext.CurrentContext.WorkDirectory);
        Assert.That(summary, Does.Contain("- No-change check (hcrReloadNeeded) with 100 modules: 150.00 µs: **missed**, 3.0× over (goal < 50 µs)"));
    }

    [Test]
    public void WithChangeReportsTheCheckIsTheNotifiedOneAndPollingIsBesideIt()
    {
        // 1,500 ns = 1.50 µs, under 50 µs; the polled 148,000 ns = 148.00 µs is reported beside it.
        string summary = SummaryWriter.Write([Check("Modules=100&Detection=Poll", 148_000), Check("Modules=100&Detection=Notify", 1_500)], [], [], TestContext.CurrentContext.WorkDirectory);
        Assert.That(summary, Does.Contain("- No-change check (hcrReloadNeeded) with 100 modules: 1.50 µs: **met** (goal < 50 µs); polling instead of change reports: 148.00 µs"));
    }
}
