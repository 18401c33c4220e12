using System.Text.Json;
using HcrLab.Lab.Cli;

namespace HcrLab.Tests.Cli;

/// <summary>
/// What the README's reference promises every command: a usage error is exit code 2 with one line naming the problem and
/// a hint on standard error (not the whole help, nothing on standard output); <c>--arch</c> in any case and by the names
/// other tools use; addresses on the command line read only one way.
/// </summary>
[TestFixture]
[Category("Cli")]
public sealed class UsageConventionsTests
{
    [TestCase(new[] { "encode", "--arch", "amd64", "--at", "0x1000", "--target", "0x2000", "--bogus" }, "hcrlab encode", "Unrecognized command or argument '--bogus'.")]
    [TestCase(new[] { "encode", "--at", "0x1000", "--target", "0x2000" }, "hcrlab encode", "Option '--arch' is required.")]
    [TestCase(new[] { "encode", "--arch", "amd64", "--at", "0x1", "--target", "0x2", "--format", "yaml" }, "hcrlab encode",
        "Argument 'yaml' not recognized. Must be one of: 'text' 'hex' 'json'")]
    [TestCase(new[] { "encode", "--arch", "x86", "--at", "0x1", "--target", "0x2" }, "hcrlab encode",
        "architecture 'x86' is ambiguous: write i386 (32-bit) or amd64 (x86-64)")]
    [TestCase(new[] { "encode", "--arch", "mips", "--at", "0x1", "--target", "0x2" }, "hcrlab encode",
        "unknown architecture 'mips'; expected one of i386, amd64, arm, thumb, arm64")]
    [TestCase(new[] { "verify", "--random", "many" }, "hcrlab verify", "Cannot parse argument 'many' for option '--random' as expected type 'System.Int32'.")]
    [TestCase(new[] { "frobnicate" }, "hcrlab", "Unrecognized command or argument 'frobnicate'.")]
    [TestCase(new string[0], "hcrlab", "Required command was not provided.")]
    [TestCase(new[] { "report", "merge" }, "hcrlab report merge", "Required argument 'reports' missing for command: 'merge'.")]
    public void AParseErrorIsExitCode2WithOneLineAndAHint(string[] args, string command, string message)
    {
        var run = CliRun.Of(args);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Output, Is.Empty, "no help on standard output");
            Assert.That(run.Error.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'), Is.EqualTo(new[]
            {
                $"{command}: {message}",
                $"Try '{command} --help' for more information.",
            }));
        });
    }

    // Every alias names the instruction set the lab calls by the second name, so both give the same bytes for one pair.
    [TestCase("AMD64", "amd64")]
    [TestCase("x86_64", "amd64")]
    [TestCase("x86-64", "amd64")]
    [TestCase("X64", "amd64")]
    [TestCase("I386", "i386")]
    [TestCase("i686", "i386")]
    [TestCase("ia32", "i386")]
    [TestCase("A32", "arm")]
    [TestCase("arm32", "arm")]
    [TestCase("T32", "thumb")]
    [TestCase("thumb2", "thumb")]
    [TestCase("AArch64", "arm64")]
    [TestCase("ARM64", "arm64")]
    public void ArchitectureAliasesNameTheSameInstructionSet(string alias, string name)
    {
        // 0x1001 is a Thumb target; the other CPUs get 0x1000 + 0x100, reachable by each one's shortest direct branch.
        string target = name == "thumb" ? "0x1101" : "0x1100";
        var byAlias = CliRun.Of("encode", "--arch", alias, "--at", "0x1000", "--target", target, "--format", "json");
        var byName = CliRun.Of("encode", "--arch", name, "--at", "0x1000", "--target", target, "--format", "json");

        Assert.Multiple(() =>
        {
            Assert.That(byAlias.ExitCode, Is.EqualTo(HcrLabCli.Success), byAlias.Error);
            using var json = JsonDocument.Parse(byAlias.Output);
            Assert.That(json.RootElement.GetProperty("arch").GetString(), Is.EqualTo(name));
            Assert.That(byAlias.Output, Is.EqualTo(byName.Output));
        });
    }

    [Test]
    public void VerifyTakesAliasesInItsList()
    {
        var isas = VerifyCommand.ParseArchitectures(["AArch64,x86_64", "T32"]);

        Assert.That(isas.Select(i => i.ToString()), Is.EqualTo(new[] { "Amd64", "Thumb", "Arm64" }));
    }

    [TestCase("4096", "--at: '4096' is ambiguous: addresses are hexadecimal; write 0x4096, or 0x1000 for decimal 4096")]
    [TestCase("10", "--at: '10' is ambiguous: addresses are hexadecimal; write 0x10, or 0xa for decimal 10")]
    [TestCase("99999999999999999999", "--at: '99999999999999999999' is ambiguous: addresses are hexadecimal; write 0x99999999999999999999")]
    public void BareDecimalDigitsAreAmbiguous(string at, string message)
    {
        var run = CliRun.Of("encode", "--arch", "amd64", "--at", at, "--target", "0x2000", "--format", "hex");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Output, Is.Empty);
            Assert.That(run.Error.TrimEnd(), Is.EqualTo($"hcrlab encode: {message}"));
        });
    }

    // 7 reads the same in both bases; 1f00 and 0x1000 are hex by their letter or prefix. E9 rel32 to 0x2000:
    // 0x2000 - (0x7 + 5) = 0x1ff4; 0x2000 - (0x1f00 + 5) = 0xfb; 0x2000 - (0x1000 + 5) = 0xffb.
    [TestCase("7", "e9f41f0000")]
    [TestCase("1f00", "e9fb000000")]
    [TestCase("0x1000", "e9fb0f0000")]
    [TestCase("0x10_00", "e9fb0f0000")]
    public void UnambiguousAddressesAreRead(string at, string hex)
    {
        var run = CliRun.Of("encode", "--arch", "amd64", "--at", at, "--target", "0x2000", "--format", "hex", "--form", "rel32");

        Assert.That(run.Output, Is.EqualTo(hex + Environment.NewLine), run.Error);
    }

    [Test]
    public void HelpMarksRequiredOptions()
    {
        string encode = CliRun.Of("encode", "--help").Output;
        string decode = CliRun.Of("decode", "--help").Output;

        Assert.Multiple(() =>
        {
            Assert.That(encode, Does.Match(@"--arch <[^>]+> \(REQUIRED\)"));
            Assert.That(encode, Does.Match(@"--at <ADDR>\s+Required without --batch\."));
            Assert.That(encode, Does.Match(@"--target <ADDR>\s+Required without --batch\."));
            Assert.That(decode, Does.Match(@"--arch <[^>]+> \(REQUIRED\)"));
            Assert.That(decode, Does.Match(@"--at <ADDR> \(REQUIRED\)"));
        });
    }

    [Test]
    public void BatchWithJsonWritesOneObjectPerLine()
    {
        const string input = "1000 2000\nnot-a-pair\n0x1000 0x1_0000_0000\n";

        var run = CliRun.WithInput(input, "encode", "--arch", "i386", "--batch", "--format", "json");
        var lines = run.OutputLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();

        // Line 1: E9 rel32, 0x2000 - (0x1000 + 5) = 0xFFB. Line 2: no pair, so no addresses. Line 3: beyond i386's 4 GiB.
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError), "a malformed line is bad input");
            Assert.That(lines, Has.Count.EqualTo(3));
            Assert.That(lines.Select(l => l.GetProperty("schema").GetString()), Is.All.EqualTo("hcrlab.encode/1"));
            Assert.That(lines[0].GetProperty("bytes").GetString(), Is.EqualTo("e9fb0f0000"));
            Assert.That(lines[0].GetProperty("form").GetString(), Is.EqualTo("rel32"));
            Assert.That(lines[0].TryGetProperty("error", out _), Is.False);
            Assert.That(lines[1].GetProperty("slot").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(lines[1].GetProperty("error").GetString(), Is.EqualTo("expected 'AT TARGET' as two hexadecimal addresses, got 'not-a-pair'"));
            Assert.That(run.OutputLines[1], Does.Contain("\"error\":\"expected 'AT TARGET'"), "quotes as themselves, not \\u0027");
            Assert.That(lines[2].GetProperty("target").GetString(), Is.EqualTo("0x100000000"));
            Assert.That(lines[2].GetProperty("error").GetString(), Does.EndWith("the target is beyond the 32-bit address space"));
        });
    }

    [TestCase("--at", "0x1000")]
    [TestCase("--target", "0x2000")]
    public void BatchRefusesAddressesOnTheCommandLine(string option, string value)
    {
        var run = CliRun.WithInput("1000 2000\n", "encode", "--arch", "i386", "--batch", option, value);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Output, Is.Empty);
            Assert.That(run.Error.TrimEnd(), Is.EqualTo("hcrlab encode: --batch reads its pairs from standard input; give no --at or --target with it"));
        });
    }

    // NaN and 1e300 parse as doubles but are no number of seconds TimeSpan takes; 0 and 3601 are outside the documented range.
    [TestCase("NaN")]
    [TestCase("1e300")]
    [TestCase("0")]
    [TestCase("3601")]
    public void AnEncoderTimeoutOutsideItsRangeIsAUsageError(string seconds)
    {
        var run = CliRun.Of("verify", "--arch", "arm", "--random", "0", "--encoder-timeout", seconds);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo("hcrlab verify: --encoder-timeout: give a number of seconds above 0 and at most 3600"));
        });
    }

    [Test]
    public void ExternalBatchRefusesJson()
    {
        var run = CliRun.WithInput("1000 2000\n", "encode", "--arch", "i386", "--batch", "--format", "json", "--encoder", "cat");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error, Does.StartWith("hcrlab encode: --encoder answers only bytes"));
        });
    }
}
