using HcrLab.Scenarios;

namespace HcrLab.Tests.Cli;

/// <summary><c>hcrlab scenario list|run</c>: what it prints and its exit codes.</summary>
[TestFixture]
[Category("Cli")]
[Category("Scenarios")]
[NonParallelizable]
public sealed class ScenarioCommandTests
{
    private static readonly string Root = ScenarioCatalog.FindRoot()
        ?? throw new InvalidOperationException("no scenarios/ folder with include/hcr.h above the test directory");

    [Test]
    public void ListPrintsEveryScenarioFolder()
    {
        var run = CliRun.Of("scenario", "list", "--dir", Root);

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.OutputLines, Is.EqualTo(ScenarioCatalog.List(Root).Select(Path.GetFileName)));
        Assert.That(run.OutputLines, Does.Contain("body-change").And.Contain("mutual-recursion"));
    }

    [Test]
    public void RunPrintsAResultPerScenarioAndTheTotals()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed");
        }

        var run = CliRun.Of("scenario", "run", "body-change", "no-change-reload", "--dir", Root);

        Assert.That(run.ExitCode, Is.EqualTo(HcrLab.Lab.Cli.HcrLabCli.Success), run.Output + run.Error);
        Assert.That(run.OutputLines, Has.Length.EqualTo(3));
        Assert.That(run.OutputLines[0], Does.Match(@"^PASS body-change \(\d+\.\d s\)$"));
        Assert.That(run.OutputLines[1], Does.Match(@"^PASS no-change-reload \(\d+\.\d s\)$"));
        Assert.That(run.OutputLines[2], Is.EqualTo("2 scenarios: 2 passed, 0 failed"));
    }

    [TestCase(new string[0], "hcrlab scenario run: name one or more scenarios, or give --all")]
    [TestCase(new[] { "--all", "body-change" }, "hcrlab scenario run: name one or more scenarios, or give --all")]
    [TestCase(new[] { "no-such-scenario" }, "hcrlab scenario run: no scenario named no-such-scenario in {root} (see hcrlab scenario list)")]
    public void BadUsageIsExitCode2(string[] arguments, string message)
    {
        var run = CliRun.Of(["scenario", "run", .. arguments, "--dir", Root]);

        Assert.That(run.ExitCode, Is.EqualTo(HcrLab.Lab.Cli.HcrLabCli.UsageError));
        Assert.That(run.Error.TrimEnd(), Is.EqualTo(message.Replace("{root}", Root, StringComparison.Ordinal)));
    }
}
