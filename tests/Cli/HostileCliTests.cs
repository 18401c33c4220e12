using HcrLab.Lab.Cli;
using HcrLab.Lab.Verification;

namespace HcrLab.Tests.Cli;

/// <summary>
/// Issue 12: command lines that checked nothing and passed, or lost their results after the run. A run that would
/// check nothing is a usage error; an output file that cannot be written is found before the run.
/// </summary>
[TestFixture]
[Category("Cli")]
public sealed class HostileCliTests
{
    private string _scratch = "";

    [SetUp]
    public void CreateScratch() => _scratch = Directory.CreateTempSubdirectory("hcrlab-cli-tests-").FullName;

    [TearDown]
    public void RemoveScratch() => Directory.Delete(_scratch, recursive: true);

    [TestCase("")]
    [TestCase(",,,")]
    [TestCase(" , ")]
    public void AnArchListNamingNoCpuIsAUsageError(string arch)
    {
        // Before: 0 cases on 0 instruction sets, exit code 0.
        var run = CliRun.Of("verify", "--arch", arch, "--random", "0");

        Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError), run.Output);
        Assert.That(run.Error.TrimEnd(), Is.EqualTo("hcrlab verify: --arch names no instruction set: give one or more of i386, amd64, arm, thumb, arm64 (or all)"));
    }

    [TestCase(2147483644, 5, 429496729)]
    [TestCase(int.MaxValue, 1, int.MaxValue)]
    [TestCase(20000, 3, 6667)]
    [TestCase(7, 0, 0)]
    public void RandomCasesAreSharedOutRoundingUpWithoutOverflow(int total, int isas, int each)
    {
        // 5 x 429,496,729 = 2,147,483,645 >= 2,147,483,644 > 5 x 429,496,728 = 2,147,483,640: the share rounded up.
        // (In 32 bits, 2,147,483,644 + 4 overflowed to a negative share: no random case ran and verify passed.)
        // 3 x 6,667 = 20,001 >= 20,000 > 3 x 6,666 = 19,998.
        Assert.That(Verifier.RandomCasesEach(total, isas), Is.EqualTo(each));
    }

    [Test]
    public void VerifyJsonIntoAMissingFolderFailsBeforeTheRun()
    {
        string json = Path.Combine(_scratch, "no-such-folder", "report.json");

        var run = CliRun.Of("verify", "--arch", "arm64", "--random", "0", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
        Assert.That(run.Error, Does.StartWith($"hcrlab verify: cannot write --json {json}: "));
        Assert.That(run.Output, Is.Empty, "nothing ran");
    }

    [Test]
    public void VerifyJsonOntoAFolderFailsBeforeTheRunAndAWritablePathIsLeftAsItWas()
    {
        var run = CliRun.Of("verify", "--arch", "arm64", "--random", "0", "--json", _scratch);

        Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
        Assert.That(run.Error, Does.StartWith($"hcrlab verify: cannot write --json {_scratch}: "));
        Assert.That(Directory.EnumerateFileSystemEntries(_scratch), Is.Empty, "the check leaves nothing behind");
    }

    [Test]
    public void ScenarioRunJsonIntoAMissingFolderFailsBeforeTheRun()
    {
        string json = Path.Combine(_scratch, "no-such-folder", "results.json");

        var run = CliRun.Of("scenario", "run", "--all", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
        Assert.That(run.Error, Does.StartWith($"hcrlab scenario run: cannot write --json {json}: "));
        Assert.That(run.Output, Is.Empty, "nothing ran");
    }
}
