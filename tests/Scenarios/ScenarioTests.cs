using System.Runtime.Versioning;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// Every scenario folder under scenarios/ is a test case (adding a folder adds a test), each run the way
/// <c>hcrlab scenario run</c> runs it: modules built with gcc, steps in a child process. The runner's own failure
/// reports (a crash, a module that does not compile, a mismatch) are tested on small scenarios written here.
/// </summary>
[TestFixture]
[UnsupportedOSPlatform("windows")]
[Category("Scenarios")]
[NonParallelizable]
public sealed class ScenarioTests
{
    private static readonly string Root = ScenarioCatalog.FindRoot()
        ?? throw new InvalidOperationException("no scenarios/ folder with include/hcr.h above the test directory");

    private ScratchScenarios? _scratch;

    public static IEnumerable<TestCaseData> Folders() =>
        ScenarioCatalog.List(Root).Select(folder => new TestCaseData(folder).SetName(Path.GetFileName(folder)));

    [OneTimeSetUp]
    public void RequireGcc()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed; scenarios build their modules with it");
        }
    }

    [TearDown]
    public void RemoveScratch()
    {
        if (_scratch is not null)
        {
            _scratch.Dispose();
            _scratch = null;
        }
    }

    [TestCaseSource(nameof(Folders))]
    public void ScenarioPasses(string folder)
    {
        var result = new ScenarioRunner(Root).Run(folder);

        Assert.That(result.Passed, Is.True,
            $"{result.Failure}\n{result.Diff}\nstandard error of the host:\n{result.StandardError}");
    }

    [Test]
    public void ANewVersionThatFaultsInItsInitIsARefusedReloadAndTheOldCodeRuns()
    {
        // What a host sees when new code faults during a reload: the old code's before handler ran, then the new
        // version's top-level code (in Init000) wrote through NULL; the runtime's fault guard contained the SIGSEGV, the
        // reload was refused and the old code answers. (A crash outside the runtime's calls: ACrashIsAFailure... below.)
        string root = Scratch(("init-crash", "a.v1.c", """
            #include "hcr.h"
            HCR_PROC(int64_t, value, (int64_t x)) { return x + 1; }
            HCR_BEFORE_RELOAD { printf("a.v1 before\n"); }
            """), ("init-crash", "a.v2.c", """
            #include "hcr.h"
            HCR_PROC(int64_t, value, (int64_t x)) { return x + 2; }
            HCR_TOP_LEVEL(boom)
            {
                printf("a.v2 init about to crash\n");
                *(volatile int*)0 = 1;
            }
            """), ("init-crash", "steps.hcr", """
            use a v1
            start a
            call a value 1 -> 2
            use a v2
            reload -> error a: Init000 faulted: SIGSEGV (SEGV_MAPERR: address not mapped) at address 0x0
            > a.v1 before
            > a.v2 init about to crash
            call a value 1 -> 2
            generation -> 0
            """));

        var result = new ScenarioRunner(root).Run(Path.Combine(root, "init-crash"));

        Assert.That(result.Passed, Is.True, $"{result.Failure}\n{result.Diff}\nstandard error of the host:\n{result.StandardError}");
    }

    [Test]
    public void ACrashIsAFailureWithTheOutputSoFar()
    {
        string root = Scratch(("crash", "a.v1.c", """
            #include "hcr.h"
            HCR_PROC(int64_t, value, (int64_t x)) { printf("a.v1 value(%ld)\n", (long)x); return x + 1; }
            """), ("crash", "a.v2.c", """
            #include "hcr.h"
            HCR_PROC(int64_t, value, (int64_t x))
            {
                printf("a.v2 about to crash\n");
                *(volatile int64_t*)0 = x;
                return x;
            }
            """), ("crash", "steps.hcr", """
            use a v1
            start a
            call a value 1 -> 2
            > a.v1 value(1)
            use a v2
            reload
            call a value 1 -> 3
            > a.v2 value(1)
            generation -> 1
            """));

        var result = new ScenarioRunner(root).Run(Path.Combine(root, "crash"));

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Failure, Is.EqualTo("the host died (exit code 139, SIGSEGV) during step 6, crash/steps.hcr:7: call a value 1 -> 3"));
        Assert.That(result.ActualTranscript, Is.EqualTo(new[]
        {
            "use a v1", "start a", "call a value 1 -> 2", "> a.v1 value(1)", "use a v2", "reload", "call a value 1 -> 3", "> a.v2 about to crash",
            "!! the host died (exit code 139, SIGSEGV) during step 6, crash/steps.hcr:7: call a value 1 -> 3",
        }));
        Assert.That(result.Diff, Is.EqualTo("""
            --- crash/steps.hcr (expected)
            +++ actual
            @@ -5,5 +5,5 @@
             use a v2
             reload
             call a value 1 -> 3
            -> a.v2 value(1)
            -generation -> 1
            +> a.v2 about to crash
            +!! the host died (exit code 139, SIGSEGV) during step 6, crash/steps.hcr:7: call a value 1 -> 3

            """.ReplaceLineEndings("\n")));
    }

    [TestCase("")]
    [TestCase("# only a comment\n\n")]
    public void AStepsFileWithoutStepsFailsTheScenario(string text)
    {
        // Issue 12: an empty steps.hcr passed, having checked nothing. The error names the file's last line (the empty
        // file has one, empty, line; the comment file three: the comment, an empty line, and the one after the last '\n').
        string root = Scratch(("empty", "a.v1.c", "int unused;"));
        File.WriteAllText(Path.Combine(root, "empty", "steps.hcr"), text);

        var result = new ScenarioRunner(root).Run(Path.Combine(root, "empty"));

        int lastLine = text.Split('\n').Length;
        Assert.That(result.Failure, Is.EqualTo($"steps file: empty/steps.hcr:{lastLine}: no steps: a scenario needs at least one step"));
    }

    [Test]
    public void AMismatchShowsWhatEachStepGave()
    {
        string root = Scratch(("mismatch", "a.v1.c", """
            #include "hcr.h"
            HCR_GLOBAL(int64_t, counter, 5);
            HCR_PROC(int64_t, value, (int64_t x)) { printf("value\n"); return x + *counter; }
            """), ("mismatch", "steps.hcr", """
            use a v1
            start a
            call a value 1 -> 7
            global a counter -> 5
            reload
            modules -> a b
            """));

        var result = new ScenarioRunner(root).Run(Path.Combine(root, "mismatch"));

        Assert.That((result.Passed, result.Failure), Is.EqualTo((false, "the transcript differs from the steps file (diff below)")));
        Assert.That(result.Diff, Is.EqualTo("""
            --- mismatch/steps.hcr (expected)
            +++ actual
            @@ -1,6 +1,7 @@
             use a v1
             start a
            -call a value 1 -> 7
            +call a value 1 -> 6
            +> value
             global a counter -> 5
            -reload
            -modules -> a b
            +reload -> unchanged
            +modules -> a

            """.ReplaceLineEndings("\n")));
    }

    [Test]
    public void AModuleThatDoesNotCompileFailsTheScenarioWithTheCompilersOutput()
    {
        string root = Scratch(("broken", "a.v1.c", "#include \"hcr.h\"\nHCR_PROC(int64_t, value, (void)) { return missing; }\n"),
            ("broken", "steps.hcr", "use a v1\nstart a\n"));

        var result = new ScenarioRunner(root).Run(Path.Combine(root, "broken"));

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Failure, Does.StartWith($"build: {root}/broken/a.v1.c does not compile (exit code 1):\n"));
        Assert.That(result.Failure, Does.Contain("error: 'missing' undeclared").Or.Contain("error: ‘missing’ undeclared"));
    }

    [Test]
    public void AMissingVersionNamesTheStep()
    {
        string root = Scratch(("missing", "steps.hcr", "# nothing here\nuse a v3\n"));

        var result = new ScenarioRunner(root).Run(Path.Combine(root, "missing"));

        Assert.That(result.Failure, Is.EqualTo($"build: missing/steps.hcr:2: 'use a v3' needs a.v3.c or a.v3.so in {root}/missing"));
    }

    [Test]
    public void AMalformedStepsFileFailsTheScenarioNamingTheLine()
    {
        string root = Scratch(("malformed", "steps.hcr", "use a v1\nstart\n"));

        var result = new ScenarioRunner(root).Run(Path.Combine(root, "malformed"));

        Assert.That(result.Failure, Is.EqualTo("steps file: malformed/steps.hcr:2: 'start' is not a start step: write start MODULE... [-> error [MODULE][: TEXT]]"));
    }

    /// <summary>A scenarios folder in the temp directory with the real hcr.h and the given files.</summary>
    private string Scratch(params (string Scenario, string File, string Text)[] files)
    {
        var scratch = new ScratchScenarios(files);
        _scratch = scratch;
        return scratch.Root;
    }
}
