using HcrLab.Tests.Native;

namespace HcrLab.Tests.Perf;

/// <summary>
/// The perf command line: HcrLab.Perf's commands (System.CommandLine) and perf/run's options. Usage errors exit 2 with
/// a one-line message and a hint on standard error, nothing on standard output; --help prints the usage and exits 0.
/// </summary>
[Category("Perf")]
public sealed class PerfCommandLineTests
{
    private static (int Status, string Output, string Error) Perf(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int status = HcrLab.Perf.Program.Run(args, output, error);
        return (status, output.ToString(), error.ToString());
    }

    [TestCase(new[] { "compare", "old" }, "Required argument 'NEW' missing", "hint: HcrLab.Perf compare --help")]
    [TestCase(new[] { "compare", "old", "new", "--threshold", "ten" }, "'ten' is not a number", "hint: HcrLab.Perf compare --help")]
    [TestCase(new[] { "compare", "old", "new", "--alpha", "1.5" }, "--alpha must lie strictly between 0 and 1", "hint: HcrLab.Perf compare --help")]
    [TestCase(new[] { "summary" }, "Required argument 'DIR' missing", "hint: HcrLab.Perf summary --help")]
    [TestCase(new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'", "hint: HcrLab.Perf --help")]
    public void AUsageErrorExitsTwoWithAMessageAndAHint(string[] args, string message, string hint)
    {
        var (status, output, error) = Perf(args);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(2));
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.Contain(message));
            Assert.That(NativeToolchain.Lines(error)[^1], Is.EqualTo(hint));
        });
    }

    [Test]
    public void CompareTakesAThresholdWithAPercentSign()
    {
        using var results = new StoredResults();
        string old = results.Run("old", [new("SlotCallBenchmarks", "CallThroughSlot", "Form=Direct", 100.5, 99, 102, [99, 100, 100, 101, 101, 102])]);
        string @new = results.Run("new", [new("SlotCallBenchmarks", "CallThroughSlot", "Form=Direct", 130, 128, 132, [128, 129, 130, 130, 131, 132])]);

        var (status, output, error) = Perf("compare", old, @new, "--threshold", "50%");

        Assert.Multiple(() =>
        {
            // +29% against a 50% threshold: not a regression (ComparerTests.AHigherThresholdAcceptsTheSameShift).
            Assert.That(status, Is.Zero, error);
            Assert.That(output, Does.Contain("verdict (threshold 50%, α = 0.05)"));
            Assert.That(output, Does.Contain("0 slower, 0 faster, 0 within noise, 0 with too few iterations, 1 compared"));
        });
    }

    [Test]
    public void AMissingRunIsAFailureNamedOnStandardError()
    {
        string missing = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"no-such-run-{Guid.NewGuid():N}");
        var (status, output, error) = Perf("summary", missing);
        Assert.That((status, output, error.Trim()), Is.EqualTo((1, "", $"HcrLab.Perf summary: {missing}: no such file or directory")));
    }

    private static ProcessResult PerfRun(params string[] args) =>
        NativeToolchain.Run(Path.Combine(NativeToolchain.RepositoryRoot, "perf", "run"), args, NativeToolchain.RepositoryRoot, TimeSpan.FromSeconds(30));

    [Test]
    public void PerfRunHelpPrintsItsHeaderAndNothingElse()
    {
        // The header is the comment block after the #! line; each line without its "# ". The line after the block
        // (set -euo pipefail) once leaked into the help.
        string[] header = [.. File.ReadLines(Path.Combine(NativeToolchain.RepositoryRoot, "perf", "run"))
            .Skip(1).TakeWhile(line => line.StartsWith('#')).Select(line => line.StartsWith("# ", StringComparison.Ordinal) ? line[2..] : line[1..])];
        var result = PerfRun("--help");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(NativeToolchain.Lines(result.Output), Is.EqualTo(header));
            Assert.That(header[0], Does.StartWith("A short job of every suite"));
            Assert.That(result.Output, Does.Not.Contain("set -euo"));
            Assert.That(result.Error, Is.Empty);
        });
    }

    [TestCase("--bogus", "perf/run: unknown option '--bogus'")]
    [TestCase("--out", "perf/run: --out needs a value")]
    public void PerfRunRefusesABadOptionBeforeBuildingAnything(string option, string message)
    {
        var result = PerfRun(option);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Output, Is.Empty);
            Assert.That(NativeToolchain.Lines(result.Error), Is.EqualTo(new[] { message, "hint: perf/run --help" }));
        });
    }
}
