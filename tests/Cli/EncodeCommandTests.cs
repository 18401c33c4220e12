using System.Text.Json;
using HcrLab.Lab.Cli;

namespace HcrLab.Tests.Cli;

/// <summary><c>hcrlab encode</c>: exact output lines, hand-derived bytes, exit codes.</summary>
[Category("Cli")]
public sealed class EncodeCommandTests
{
    [Test]
    public void TextFormatShowsFormBytesAndDisassembly()
    {
        // amd64 E9 rel32: 0x2000 - (0x1000 + 5) = 0xFFB → e9 fb 0f 00 00 (rel8 cannot: 0xFFB > 127).
        var run = CliRun.Of("encode", "--arch", "amd64", "--at", "0x1000", "--target", "0x2000");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success));
            Assert.That(run.OutputLines, Is.EqualTo(new[]
            {
                "form:    rel32 (jmp rel32)",
                "mode:    code",
                "slot:    0x1000",
                "target:  0x2000",
                "size:    5 bytes",
                "bytes:   e9fb0f0000",
                "literal: none",
                "cache:   no instruction-cache maintenance needed",
                "disassembly:",
                "  0x1000  e9fb0f0000            jmp 0x2000",
            }));
            Assert.That(run.Error, Is.Empty);
        });
    }

    // arm64, target far beyond ±4 GiB: LDR X16, #8 = 0x58000050; BR X16 = 0xD61F0200; literal 0x7_0000_0000 at +8.
    [TestCase("arm64", "0x1000", "0x700000000", "code", "5000005800021fd60000000007000000")]
    // Thumb slot 2 mod 4 to an A32 target: LDR.W PC, [PC, #4] (F8DF F004: base = (0x1002 + 4) & ~3 = 0x1004, literal at 0x1008),
    // two bytes of udf padding (00 de), then the literal 0x2000.
    [TestCase("thumb", "0x1002", "0x2000", "code", "dff804f000de00200000")]
    // A32 B: imm24 = (0x2000 - (0x1000 + 8)) / 4 = 0x3FE → 0xEA0003FE.
    [TestCase("arm", "0x1000", "0x2000", "code", "fe0300ea")]
    // i386 data mode at a slot 1 mod 4: FF 25 abs32 ends at 0x1007, the literal sits at the next 4-aligned address 0x1008 after one CC.
    [TestCase("i386", "0x1001", "0x2000", "data", "ff2508100000cc00200000")]
    public void HexFormatPrintsOnlyTheBytes(string arch, string at, string target, string mode, string hex)
    {
        var run = CliRun.Of("encode", "--arch", arch, "--at", at, "--target", target, "--mode", mode, "--format", "hex");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success));
            Assert.That(run.Output, Is.EqualTo(hex + Environment.NewLine));
        });
    }

    [Test]
    public void ForcedFormOutOfReachIsAnErrorOnStandardError()
    {
        // rel8 from 0x1000 reaches at most 0x1000 + 2 + 127 = 0x1081.
        var run = CliRun.Of("encode", "--arch", "i386", "--at", "0x1000", "--target", "0x1082", "--form", "rel8");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.CheckFailed));
            Assert.That(run.Output, Is.Empty);
            Assert.That(run.Error.TrimEnd(), Is.EqualTo(
                "hcrlab encode: i386 rel8: cannot jump from 0x1000 to 0x1082: displacement 0x80 is outside [-0x80, 0x7F]"));
        });
    }

    [Test]
    public void MisalignedArm64TargetIsRefused()
    {
        var run = CliRun.Of("encode", "--arch", "arm64", "--at", "0x1000", "--target", "0x2002");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.CheckFailed));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo("hcrlab encode: arm64: cannot jump from 0x1000 to 0x2002: a target must be 4-byte aligned"));
        });
    }

    [Test]
    public void BatchWritesOneLinePerPairAndReportsBadLinesOnStandardError()
    {
        const string input = "1000 2000\n# a comment line\n\n0x1000 0x1_0000_0000\nnot-an-address 2000\n0x40 0xffffffc2\n";

        var run = CliRun.WithInput(input, "encode", "--arch", "i386", "--batch");

        Assert.Multiple(() =>
        {
            // Line 1: E9 0xFFB. Line 4: beyond 4 GiB, an empty line. Line 5: malformed, an empty line.
            // Line 6: EB rel8 = 0xFFFFFFC2 - 0x42 = -0x80 (mod 2^32) → eb 80.
            Assert.That(run.OutputLines, Is.EqualTo(new[] { "e9fb0f0000", "", "", "eb80" }));
            Assert.That(run.Error.ReplaceLineEndings("\n").TrimEnd().Split('\n'), Is.EqualTo(new[]
            {
                "line 4: i386: cannot jump from 0x1000 to 0x100000000: the target is beyond the 32-bit address space",
                "line 5: expected 'AT TARGET' as two hexadecimal addresses, got 'not-an-address 2000'",
            }));
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
        });
    }

    [Test]
    public void BatchRefusesAnOverlongLineShowingOnlyItsStartAndGoesOn()
    {
        // Issue 12: a line of any length was read whole and echoed whole into the error (1.1 GB: out of memory). Here
        // 10,000,000 zeros, then a good pair: line 1 is refused (an empty output line keeps the lines aligned), line 2
        // encodes as in the test above (E9 0xFFB).
        string input = new string('0', 10_000_000) + "\n1000 2000\n";

        var run = CliRun.WithInput(input, "encode", "--arch", "i386", "--batch");

        Assert.Multiple(() =>
        {
            Assert.That(run.OutputLines, Is.EqualTo(new[] { "", "e9fb0f0000" }));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo(
                $"line 1: longer than 1024 characters (a pair of 64-bit addresses and a comment fit easily), starting '{new string('0', 40)}...'"));
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
        });
    }

    [Test]
    public void BatchReadsALastLineWithoutANewline()
    {
        var run = CliRun.WithInput("1000 2000", "encode", "--arch", "i386", "--batch");

        Assert.That(run.OutputLines, Is.EqualTo(new[] { "e9fb0f0000" }));
    }

    [Test]
    public void JsonFormatIsOneObjectWithTheSameFacts()
    {
        var run = CliRun.Of("encode", "--arch", "arm64", "--at", "0x1004", "--target", "0x2000", "--mode", "data", "--format", "json");
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;

        // Slot 4 mod 8: LDR X16, #12 (imm19 = 3 → 0x58000070), BR X16, udf padding, literal at 0x1010.
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success));
            Assert.That(root.GetProperty("form").GetString(), Is.EqualTo("ldr-br"));
            Assert.That(root.GetProperty("bytes").GetString(), Is.EqualTo("70000058" + "00021fd6" + "00000000" + "0020000000000000"));
            Assert.That(root.GetProperty("literalOffset").GetInt32(), Is.EqualTo(12));
            Assert.That(root.GetProperty("size").GetInt32(), Is.EqualTo(20));
            Assert.That(root.GetProperty("problems").GetArrayLength(), Is.Zero);
        });
    }

    [Test]
    public void MissingAddressesAreAUsageError()
    {
        var run = CliRun.Of("encode", "--arch", "arm64", "--at", "0x1000");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo("hcrlab encode: --at and --target are required (or use --batch)"));
        });
    }

    [Test]
    public void UnparsableAddressIsAUsageError()
    {
        var run = CliRun.Of("encode", "--arch", "arm64", "--at", "0x1000", "--target", "12g4");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error, Does.Contain("--target: '12g4' is not a hexadecimal address"));
        });
    }

    [Test]
    public void UnknownArchitectureIsRejectedByTheParser()
    {
        var run = CliRun.Of("encode", "--arch", "mips", "--at", "0", "--target", "0");

        Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
    }
}
