using System.Runtime.Versioning;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// Issue 12, unbounded memory: a step's output is capped (an "output truncated" failure), and the transcript diff
/// takes memory linear in its inputs (DiffPlex), not an (expected+1)×(actual+1) table.
/// </summary>
[TestFixture]
[Category("Scenarios")]
[UnsupportedOSPlatform("windows")]
[NonParallelizable]
public sealed class TranscriptSizeTests
{
    [Test]
    public void AStepPrintingAMillionLinesIsTruncatedWithAClearFailure()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed");
        }

        // The step expects 10 lines; 10 + ScenarioRunner.MaxExtraOutputLinesPerStep (1,000) = 1,010 are kept.
        string expected = string.Concat(Enumerable.Repeat("\n> x", 10));
        using var scratch = new ScratchScenarios(("flood", "steps.hcr", "use a v1\nstart a\ncall a value 1 -> 2" + expected), ("flood", "a.v1.c", """
            #include "hcr.h"
            HCR_PROC(int64_t, value, (int64_t x)) { for (int i = 0; i < 1000000; i++) printf("x\n"); return x + 1; }
            """));

        var result = BoundedWaitTests.RunBounded(() => new ScenarioRunner(scratch.Root).Run(scratch.Folder("flood")));

        Assert.That(result.Failure, Is.EqualTo("output truncated: step 3, flood/steps.hcr:3: call a value 1 -> 2 printed more than 1010 lines"));
        Assert.That(result.ActualTranscript.Count(line => line == "> x"), Is.EqualTo(1010));
    }

    [Test]
    public void TheDiffOfAChangedLineHasOneHunkWithItsContext()
    {
        // a b c d against a B c d: line 2 changed; with 3 lines of context the hunk covers all 4 lines of each side.
        string diff = UnifiedDiff.Create(["a", "b", "c", "d"], ["a", "B", "c", "d"], "old", "new");

        Assert.That(diff, Is.EqualTo("--- old\n+++ new\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n d\n".ReplaceLineEndings()));
    }

    [Test]
    public void NoLinesAndOneEmptyLineDiffer()
    {
        // An empty transcript against one empty line: the hunk adds line 1 after line 0 of the empty side.
        string diff = UnifiedDiff.Create([], [""], "old", "new");

        Assert.That(diff, Is.EqualTo("--- old\n+++ new\n@@ -0,0 +1 @@\n+\n".ReplaceLineEndings()));
    }

    [Test]
    public void AThousandExpectedLinesAgainstTenThousandOthersDiffInLinearMemory()
    {
        // The old table held 1,001 × 10,001 ints (40 MB); the edit script needs a few MB. Allocation is measured on
        // this thread only, so other tests do not disturb it.
        string[] expected = [.. Enumerable.Range(0, 1000).Select(i => $"expected {i}")];
        string[] actual = [.. Enumerable.Range(0, 10000).Select(i => $"actual {i}")];
        long before = GC.GetAllocatedBytesForCurrentThread();

        string diff = UnifiedDiff.Create(expected, actual);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(diff.Split('\n').Count(line => line.StartsWith('-') && !line.StartsWith("---", StringComparison.Ordinal)), Is.EqualTo(1000));
        Assert.That(allocated, Is.LessThan(20_000_000), "bytes allocated by the diff");
    }
}
