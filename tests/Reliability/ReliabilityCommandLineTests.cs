namespace HcrLab.Tests.Reliability;

/// <summary>
/// The reliability program's command line (System.CommandLine): every command is listed by --help, and a usage error
/// exits 2 with one line and a hint instead of running (before, a malformed number threw, and a flag a command does
/// not know was ignored).
/// </summary>
[Category("Reliability")]
public sealed class ReliabilityCommandLineTests
{
    private static (int Status, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int status = ReliabilityMain.Run(args, output, error);
        return (status, output.ToString(), error.ToString());
    }

    [Test]
    public void HelpListsEveryCommand()
    {
        var (status, output, _) = Run("--help");
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.Zero);
            foreach (string command in new[] { "stress", "fuzz", "crash-at-init", "crash-outside-guard", "misaligned-call", "load-each" })
            {
                Assert.That(output, Does.Match($@"(?m)^\s+{command}\b"), command);
            }
        });
    }

    [TestCase(new[] { "stress", "--calls", "many" }, "Cannot parse argument 'many' for option '--calls'", "stress")]
    [TestCase(new[] { "fuzz", "--start-only" }, "--start-only needs --one-process", "fuzz")]
    [TestCase(new[] { "fuzz", "--trial", "--trial-start" }, "--trial and --trial-start exclude each other", "fuzz")]
    [TestCase(new[] { "load-each" }, "Required argument 'FILE' missing", "load-each")]
    [TestCase(new[] { "crash-at-init", "--guard" }, "Unrecognized command or argument '--guard'", "crash-at-init")]
    public void AUsageErrorExitsTwoWithoutRunning(string[] args, string message, string command)
    {
        var (status, output, error) = Run(args);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(2));
            Assert.That(output, Is.Empty);
            Assert.That(error, Does.Contain(message));
            Assert.That(error.TrimEnd().Split('\n')[^1], Is.EqualTo($"hint: dotnet HcrLab.Tests.dll {command} --help"));
        });
    }
}
