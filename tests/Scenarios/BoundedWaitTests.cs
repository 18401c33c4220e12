using System.Diagnostics;
using System.Runtime.Versioning;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// Issue 12, waits that ignore their own limits: every child the scenario runner starts (gcc, the scenario host) has a
/// deadline that holds, even when a module leaves a process behind that keeps the output pipe open, or a source
/// includes a FIFO that nobody ever writes. Each test bounds its own wait, so a regression fails instead of hanging.
/// </summary>
[TestFixture]
[Category("Scenarios")]
[UnsupportedOSPlatform("windows")]
[NonParallelizable]
public sealed class BoundedWaitTests
{
    /// <summary>Far above every limit under test (a few seconds each), far below the day the old code would wait.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [OneTimeSetUp]
    public void RequireGcc()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed");
        }
    }

    [Test]
    public void AModuleThatLeavesABackgroundProcessHoldingTheOutputDoesNotKeepTheRunnerWaiting()
    {
        using var scratch = new ScratchScenarios();
        string pidFile = Path.Combine(scratch.Root, "sleeper.pid");

        // The sleeper leaves the host's process group (setsid) and inherits its standard output: the pipe stays open
        // for 100,000 s after the host has ended. Its pid is written down so the test can end it.
        File.WriteAllText(Path.Combine(scratch.Root, "include", "sleeper.h"), $"#define PID_FILE \"{pidFile}\"\n");
        WriteScenario(scratch, "sleeper", """
            #include "hcr.h"
            #include <stdlib.h>
            #include "sleeper.h"
            HCR_TOP_LEVEL(spawn) { if (system("setsid sleep 100000 & echo $! > " PID_FILE)) { } }
            HCR_PROC(int64_t, value, (int64_t x)) { return x + 1; }
            """, "use a v1\nstart a\ncall a value 1 -> 2");
        try
        {
            var result = RunBounded(() => new ScenarioRunner(scratch.Root).Run(scratch.Folder("sleeper")));

            // The host itself ended normally after every step: the scenario passes, it just must not wait for the sleeper.
            Assert.That(result.Passed, Is.True, $"{result.Failure}\n{result.Diff}");
        }
        finally
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid))
            {
                using var sleeper = Process.GetProcessById(pid);
                sleeper.Kill();
            }
        }
    }

    [Test]
    public void AHostThatNeverEndsIsKilledAtTheTimeLimitWithEverythingItStarted()
    {
        using var scratch = new ScratchScenarios();
        WriteScenario(scratch, "spin", """
            #include "hcr.h"
            #include <stdlib.h>
            HCR_PROC(int64_t, value, (int64_t x)) { if (system("sleep 100000")) { } for (;;) { } return x; }
            """, "use a v1\nstart a\ncall a value 1 -> 2");

        var result = RunBounded(() => new ScenarioRunner(scratch.Root) { Timeout = TimeSpan.FromSeconds(5) }.Run(scratch.Folder("spin")));

        // Step 3 (steps.hcr line 3) is the call that never returns: the host blocks in system("sleep ...").
        Assert.That(result.Failure, Is.EqualTo("the host did not finish within 5 s during step 3, spin/steps.hcr:3: call a value 1 -> 2; it was killed"));
    }

    [Test]
    public void ASourceIncludingAFifoFailsTheBuildAtTheCompilersTimeLimit()
    {
        using var scratch = new ScratchScenarios();
        string fifo = Path.Combine(scratch.Root, "never-written");
        MakeFifo(fifo);
        string source = Path.Combine(scratch.Root, "m.c");
        File.WriteAllText(source, $"#include \"{fifo}\"\nint x;\n");
        var builder = new ModuleBuilder { Timeout = TimeSpan.FromSeconds(3) };

        var error = RunBounded(() => Assert.Throws<ModuleBuildException>(() => builder.Build(source, Path.Combine(scratch.Root, "m.so")))!);

        Assert.That(error.How, Is.EqualTo("the compiler did not finish within 3 s; its process group was killed"));
    }

    internal static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.That(mkfifo.ExitCode, Is.Zero, "mkfifo");
    }

    internal static T RunBounded<T>(Func<T> work)
    {
        var task = Task.Factory.StartNew(work, TaskCreationOptions.LongRunning);
        Assert.That(task.Wait(Patience), Is.True, $"still waiting after {Patience.TotalSeconds} s: a wait without a deadline");
        return task.Result;
    }

    private static void WriteScenario(ScratchScenarios scratch, string name, string module, string steps)
    {
        Directory.CreateDirectory(scratch.Folder(name));
        File.WriteAllText(Path.Combine(scratch.Folder(name), "a.v1.c"), module + "\n");
        File.WriteAllText(Path.Combine(scratch.Folder(name), "steps.hcr"), steps + "\n");
    }
}
