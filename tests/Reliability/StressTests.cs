using System.Globalization;
using System.Text.RegularExpressions;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// A short stress run (see <see cref="StressRun"/>) in a child process, so that a crash is counted here instead of ending
/// the test run. The long run is the same command with <c>--calls 100000000</c> (runtime/RELIABILITY.md).
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed class StressTests
{
    [OneTimeSetUp]
    public void RequireGcc() => ModuleWorkbench.RequireGcc();

    [Test]
    public void TwoThreadsCallingThroughReloadsAndRepointsSeeNoWrongResultAndDoNotCrash()
    {
        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "stress", "--seconds", "3", "--threads", "2");
        TestContext.Out.WriteLine(child.Output);

        Assert.That((child.ExitCode, child.Crashed), Is.EqualTo((0, false)), child.ToString());
        var figures = Figures(child.OutputLines.Single(l => l.StartsWith("stress:", StringComparison.Ordinal)));
        Assert.Multiple(() =>
        {
            Assert.That(figures["threads"], Is.EqualTo(2));
            Assert.That(figures["calls"], Is.GreaterThan(1_000_000));
            Assert.That(figures["reloads"], Is.GreaterThanOrEqualTo(10));
            Assert.That(figures["repoints"], Is.EqualTo(16 * figures["reloads"]));
            Assert.That(figures["wrong"], Is.Zero, child.Output);
            Assert.That(figures["badcalls"], Is.Zero);
            Assert.That(figures["forced-unloads"], Is.Zero);
            Assert.That(figures["unloaded-images"], Is.GreaterThan(0).And.LessThanOrEqualTo(4 * figures["reloads"]));
            Assert.That(figures["rwx-mappings"], Is.Zero);
        });
    }

    [Test]
    public void WithoutRetentionTheSameLoadCrashesTheProcess()
    {
        // The control: every replaced image is unloaded at once (--retain 0), as before image retention existed.
        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "stress", "--seconds", "3", "--threads", "2", "--retain", "0");
        TestContext.Out.WriteLine(child.ToString());
        if (!child.Crashed)
        {
            Assert.Inconclusive($"no caller was inside an unloaded image in 3 s this time: {child.Output}");
        }

        Assert.That(child.ExitCode, Is.EqualTo(128 + 11).Or.EqualTo(128 + 7), "SIGSEGV or SIGBUS: a caller returned into an unmapped image");
    }

    [TestCase(0x0100_0000_0005_0103L, 3, 5L, Description = "v1 answer of module 1's proc 3, stamped generation 5")]
    [TestCase(0x0180_0000_0006_0103L, 3, 6L, Description = "its alternate (bit 55), a newer stamp")]
    [TestCase(0x0100_0000_0005_0104L, 3, null, Description = "another proc's id")]
    [TestCase(0x0200_0000_0005_0103L, 3, null, Description = "a version that was not installed at generation 5")]
    [TestCase(0x0100_0000_0004_0103L, 3, null, Description = "stamp 4 after this caller saw 5 on the slot")]
    [TestCase(0x0100_0000_0009_0103L, 3, null, Description = "a generation never installed")]
    public void TheCheckerRefusesResultsFromNeitherVersionAndOldResultsAfterNewOnes(long result, int slotInModule1, long? expected)
    {
        byte[] versionAt = new byte[16];
        versionAt[4] = 2;
        versionAt[5] = 1;
        versionAt[6] = 1;
        Assert.That(StressRun.Check(result, 16 + slotInModule1, procs: 16, versionAt, lastStamp: 5), Is.EqualTo(expected));
    }

    /// <summary>The key=value figures of a <see cref="StressReport"/> line.</summary>
    internal static Dictionary<string, double> Figures(string line) =>
        Regex.Matches(line, @"([a-z-]+)=([0-9.]+)(?=\s|$)")
            .ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
}
