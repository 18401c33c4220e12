using System.Runtime.Versioning;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// Issue 12: files given to the scenario runner that are not regular files of a sensible size (a FIFO nobody writes, a
/// link to /dev/zero, a huge steps file) fail the scenario with a message naming the file, before anything blocks or
/// fills memory. Each test bounds its own wait (<see cref="BoundedWaitTests.RunBounded{T}"/>).
/// </summary>
[TestFixture]
[Category("Scenarios")]
[UnsupportedOSPlatform("windows")]
[NonParallelizable]
public sealed class HostileFileTests
{
    private const string Module = "#include \"hcr.h\"\nHCR_PROC(int64_t, value, (int64_t x)) { return x + 1; }";
    private const string Steps = "use a v1\nstart a\ncall a value 1 -> 2";

    [Test]
    public void AStepsFileThatIsAFifoFailsTheScenarioWithoutBlocking()
    {
        using var scratch = new ScratchScenarios(("fifo", "a.v1.c", Module));
        string steps = Path.Combine(scratch.Folder("fifo"), "steps.hcr");
        BoundedWaitTests.MakeFifo(steps);

        var result = BoundedWaitTests.RunBounded(() => new ScenarioRunner(scratch.Root).Run(scratch.Folder("fifo")));

        Assert.That(result.Failure, Is.EqualTo($"steps file: {steps}: it is a FIFO, not a regular file"));
    }

    [Test]
    public void AModuleSourceThatIsAFifoFailsTheBuildWithoutBlocking()
    {
        using var scratch = new ScratchScenarios(("fifo", "steps.hcr", Steps));
        string source = Path.Combine(scratch.Folder("fifo"), "a.v1.c");
        BoundedWaitTests.MakeFifo(source);

        var result = BoundedWaitTests.RunBounded(() => new ScenarioRunner(scratch.Root).Run(scratch.Folder("fifo")));

        Assert.That(result.Failure, Is.EqualTo($"build: {source}: it is a FIFO, not a regular file"));
    }

    [TestCase("a.v1.c")]
    [TestCase("a.v1.so")]
    public void AModuleFileLinkedToDevZeroIsRefusedBeforeItIsRead(string file)
    {
        // /dev/zero never ends: reading it "to the end" would fill memory. A source or a prebuilt library may be either.
        using var scratch = new ScratchScenarios(("zero", "steps.hcr", Steps));
        string path = Path.Combine(scratch.Folder("zero"), file);
        File.CreateSymbolicLink(path, "/dev/zero");

        var result = BoundedWaitTests.RunBounded(() => new ScenarioRunner(scratch.Root).Run(scratch.Folder("zero")));

        Assert.That(result.Failure, Is.EqualTo($"build: {path}: it is a character device, not a regular file"));
    }

    [Test]
    public void AStepsFileOverTheLimitIsRefusedWithItsSize()
    {
        // 1 MiB = 1,048,576 bytes are allowed (Scenario.MaxStepsFileBytes); a comment line makes the file one byte more.
        using var scratch = new ScratchScenarios(("huge", "a.v1.c", Module));
        string steps = Path.Combine(scratch.Folder("huge"), "steps.hcr");
        File.WriteAllText(steps, "#" + new string('x', (1 << 20) - 1) + "\n");

        var result = new ScenarioRunner(scratch.Root).Run(scratch.Folder("huge"));

        Assert.That(result.Failure, Is.EqualTo($"steps file: {steps}: it is 1,048,577 bytes, more than the 1,048,576 allowed"));
    }

    [Test]
    public void ARegularFileWithinTheLimitReadsAsItsText()
    {
        using var scratch = new ScratchScenarios();
        string path = Path.Combine(scratch.Root, "text");
        File.WriteAllText(path, "\uFEFFuse a v1\n", new System.Text.UTF8Encoding(false));

        // 3 bytes of byte order mark and 9 of text: exactly 12, so a limit of 12 reads it and the mark is dropped.
        Assert.That(BoundedFile.ReadAllText(path, 12), Is.EqualTo("use a v1\n"));
        Assert.That(() => BoundedFile.ReadAllText(path, 11), Throws.TypeOf<UnreadableFileException>());
    }

    [Test]
    public void AnUnreadableScenarioFolderIsListedAndFailsInsteadOfDroppingOut()
    {
        if (UnixFile.EffectiveUser == 0)
        {
            Assert.Ignore("root reads every folder whatever its mode; this needs an ordinary user");
        }

        using var scratch = new ScratchScenarios(("locked", "a.v1.c", Module), ("locked", "steps.hcr", Steps));
        File.SetUnixFileMode(scratch.Folder("locked"), UnixFileMode.None);

        Assert.That(ScenarioCatalog.List(scratch.Root), Is.EqualTo(new[] { scratch.Folder("locked") }));
        var result = new ScenarioRunner(scratch.Root).Run(scratch.Folder("locked"));
        Assert.That(result.Failure, Does.StartWith($"steps file: {Path.Combine(scratch.Folder("locked"), "steps.hcr")}: it cannot be examined"));
    }

    [Test]
    public void AFolderWithoutAStepsFileIsNotAScenario()
    {
        using var scratch = new ScratchScenarios(("real", "a.v1.c", Module), ("real", "steps.hcr", Steps), ("other", "notes.txt", "not a scenario"));

        Assert.That(ScenarioCatalog.List(scratch.Root), Is.EqualTo(new[] { scratch.Folder("real") }));
    }
}
