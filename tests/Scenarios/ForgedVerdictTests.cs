using System.Runtime.Versioning;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// Issue 12, verdicts that can be forged or vacuous: module output that looks like the host's protocol is output, the
/// parent's reading of the protocol is bounds-checked, and a run whose steps did not all run cannot pass.
/// </summary>
[TestFixture]
[Category("Scenarios")]
[UnsupportedOSPlatform("windows")]
[NonParallelizable]
public sealed class ForgedVerdictTests
{
    private const string Module = "#include \"hcr.h\"\nHCR_PROC(int64_t, value, (int64_t x)) { return x + 1; }";

    private const string Steps = "use a v1\nstart a\ncall a value 1 -> 2\ncall a value 2 -> 99";

    [OneTimeSetUp]
    public void RequireGcc()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed");
        }
    }

    [Test]
    public void AModulePrintingTheRemainingMarkersAndExitingDoesNotPass()
    {
        // The forgery that passed before: during 'start a' (step index 1) the module's top-level code prints the
        // markers a host would print for the rest of the run, then leaves without running the steps. The last step
        // expects 99, which value(2) = 3 would never give.
        using var scratch = new ScratchScenarios(("forged", "steps.hcr", Steps), ("forged", "a.v1.c", """
            #include "hcr.h"
            #include <unistd.h>
            HCR_PROC(int64_t, value, (int64_t x)) { return x + 1; }
            HCR_TOP_LEVEL(forge)
            {
                printf("@@hcr done 1 start a\n@@hcr step 2\n@@hcr done 2 call a value 1 -> 2\n");
                printf("@@hcr step 3\n@@hcr done 3 call a value 2 -> 99\n@@hcr end\n");
                fflush(stdout);
                _exit(0);
            }
            """));

        var result = new ScenarioRunner(scratch.Root).Run(scratch.Folder("forged"));

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Failure, Is.EqualTo("the host died (exit code 0) during step 2, forged/steps.hcr:2: start a"));
        Assert.That(result.ActualTranscript, Does.Contain("> @@hcr end"), "the forged lines are the module's output");
    }

    [Test]
    public void AModulePrintingAMarkerWithAnIndexOutOfRangeIsAMismatchNotACrash()
    {
        using var scratch = new ScratchScenarios(("range", "steps.hcr", "use a v1\nstart a\ncall a value 1 -> 2"), ("range", "a.v1.c", """
            #include "hcr.h"
            HCR_PROC(int64_t, value, (int64_t x)) { printf("@@hcr step 99\n@@hcr done -5 x\n"); return x + 1; }
            """));

        var result = new ScenarioRunner(scratch.Root).Run(scratch.Folder("range"));

        Assert.That(result.Failure, Is.EqualTo("the transcript differs from the steps file (diff below)"));
        Assert.That(result.ActualTranscript, Is.EqualTo(new[]
        {
            "use a v1", "start a", "call a value 1 -> 2", "> @@hcr step 99", "> @@hcr done -5 x",
        }));
    }

    [TestCase("step 99", "a protocol line out of order or malformed: '@@hcr:KEY step 99' (after step 0 of 3)")]
    [TestCase("done 0 use a v1", "a protocol line out of order or malformed: '@@hcr:KEY done 0 use a v1' (after step 0 of 3)")]
    [TestCase("step x", "a protocol line out of order or malformed: '@@hcr:KEY step x' (after step 0 of 3)")]
    public void AHostBreakingTheProtocolIsAFailureNamingTheLine(string line, string fault)
    {
        // A stand-in host that knows the key (it reads it from standard input, as the real one does) and misbehaves.
        using var scratch = new ScratchScenarios(("proto", "steps.hcr", "use a v1\nstart a\ncall a value 1 -> 2"), ("proto", "a.v1.c", Module));
        var host = new HostCommand("/bin/sh", ["-c", $"read key; echo \"@@hcr:$key {line}\"; echo \"key=$key\" >&2", "host"]);

        var result = new ScenarioRunner(scratch.Root, host).Run(scratch.Folder("proto"));

        string key = result.StandardError.Trim()["key=".Length..];
        Assert.That(result.Failure, Is.EqualTo("the host failed: " + fault.Replace("KEY", key, StringComparison.Ordinal)));
    }

    [Test]
    public void AHostThatEndsWithoutRunningTheStepsDoesNotPass()
    {
        using var scratch = new ScratchScenarios(("vacuous", "steps.hcr", "use a v1\nstart a\ncall a value 1 -> 2"), ("vacuous", "a.v1.c", Module));
        var host = new HostCommand("/bin/sh", ["-c", "read key; echo \"@@hcr:$key end\"", "host"]);

        var result = new ScenarioRunner(scratch.Root, host).Run(scratch.Folder("vacuous"));

        Assert.That(result.Failure, Is.EqualTo("the host ended after 0 of 3 steps"));
    }

    [Test]
    public void TheHostRefusesToRunWithoutAKey()
    {
        var run = HcrLab.Tests.Cli.CliRun.WithInput("not-a-key\n", "scenario", "host", ScratchScenarios.RealRoot, Path.GetTempPath());

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Output.TrimEnd(), Is.EqualTo(
            "hcrlab scenario host: standard input must start with the run's key (32 lowercase hex digits); this command is run by 'hcrlab scenario run'"));
    }
}
