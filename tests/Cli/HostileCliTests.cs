using System.Diagnostics;
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

    [TestCase("encode", "--arch", "arm64", "--at", "0x1000", "--target", "0x2000")]
    [TestCase("verify", "--arch", "arm64", "--random", "0")]
    [TestCase("decode", "--arch", "arm64", "--at", "0x1000", "00000014")]
    [TestCase("encode", "--arch", "arm64", "--batch", "--format", "json")]
    public void AMissingCapstoneIsExitCode3AndOneLine(params string[] arguments)
    {
        // A copy of the built tool without Capstone's native library (every runtimes/*/native/libcapstone.*), run as
        // a child: before, encode printed a DllNotFoundException trace (exit 1) and verify failed hundreds of cases.
        string tool = Path.Combine(_scratch, "hcrlab");
        string built = AppContext.BaseDirectory;
        foreach (string file in Directory.EnumerateFiles(built, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(built, file);
            if (Path.GetFileName(file).StartsWith("libcapstone", StringComparison.Ordinal) || relative.StartsWith("tests", StringComparison.Ordinal))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(tool, relative))!);
            File.Copy(file, Path.Combine(tool, relative));
        }

        var start = new ProcessStartInfo(HcrLab.Scenarios.HostCommand.DotnetExecutable()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])[Path.Combine(tool, "hcrlab.dll"), .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEndAsync();
        string error = child.StandardError.ReadToEnd();
        Assert.That(child.WaitForExit(TimeSpan.FromSeconds(120)), Is.True);

        Assert.That(child.ExitCode, Is.EqualTo(HcrLabCli.MissingLibrary), output.Result + error);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.StartWith($"hcrlab {arguments[0]}: Capstone (libcapstone.so from the Gee.External.Capstone package"));
    }

    [Test]
    public void AFullStandardOutputIsOneLineAndExitCode2()
    {
        // What /dev/full does to every write: ENOSPC. Before: System.CommandLine's trace and exit code 1.
        var error = new StringWriter();
        int exit = HcrLabCli.Run(["encode", "--arch", "arm64", "--at", "0x1000", "--target", "0x2000"], new StringReader(""),
            new FailingWriter("No space left on device"), error);

        Assert.That(exit, Is.EqualTo(HcrLabCli.UsageError));
        Assert.That(error.ToString().TrimEnd(), Is.EqualTo("hcrlab: input or output failed: No space left on device"));
    }

    [Test]
    public void ADirectoryAsStandardInputIsOneLineAndExitCode2()
    {
        // Reading a directory fails with EISDIR, as 'hcrlab encode --batch < /tmp' does.
        var error = new StringWriter();
        int exit = HcrLabCli.Run(["encode", "--arch", "arm64", "--batch"], new FailingReader("Is a directory"), new StringWriter(), error);

        Assert.That(exit, Is.EqualTo(HcrLabCli.UsageError));
        Assert.That(error.ToString().TrimEnd(), Is.EqualTo("hcrlab: input or output failed: Is a directory"));
    }

    private sealed class FailingWriter(string message) : StringWriter
    {
        public override void Write(char value) => throw new IOException(message);

        public override void Write(string? value) => throw new IOException(message);

        public override void WriteLine(string? value) => throw new IOException(message);
    }

    private sealed class FailingReader(string message) : TextReader
    {
        public override int Read(char[] buffer, int index, int count) => throw new IOException(message);

        public override string? ReadLine() => throw new IOException(message);
    }
}
