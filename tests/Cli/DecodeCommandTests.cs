using System.Text.Json;
using HcrLab.Lab.Cli;

namespace HcrLab.Tests.Cli;

/// <summary><c>hcrlab decode</c>: the disassembly, where the jump lands and which form it is, from hand-derived bytes.</summary>
[TestFixture]
[Category("Cli")]
public sealed class DecodeCommandTests
{
    [Test]
    public void Amd64Rel32()
    {
        // e9 fb0f0000: 0x1000 + 5 + 0xFFB = 0x2000.
        var run = CliRun.Of("decode", "--arch", "amd64", "--at", "0x1000", "e9fb0f0000");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Error);
            Assert.That(run.OutputLines, Is.EqualTo(new[]
            {
                "0x1000  e9fb0f0000            jmp 0x2000",
                "form:  rel32 (jmp rel32), code mode, 5 bytes",
                "lands: 0x2000",
            }));
        });
    }

    [Test]
    public void ThumbLiteralToAnA32TargetWithTrailingBytes()
    {
        // The README's example: LDR.W PC, [PC, #4] at 0x1002 reads (0x1002 + 4) & ~3 + 4 = 0x1008; udf padding; the
        // literal 0x2000 (bit 0 clear: an A32 target). Then one Thumb nop (bf00) that is not part of the jump.
        var run = CliRun.Of("decode", "--arch", "t32", "--at", "0x1002", "dff8 04f0", "00de", "0020 0000", "00bf");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Error);
            Assert.That(run.OutputLines, Is.EqualTo(new[]
            {
                "0x1002  dff804f0              ldr.w pc, [pc, #4]",
                "0x1006  00de                  udf #0",
                "0x1008  00200000              .word 0x2000",
                "0x100c  00bf                  nop",
                "form:  ldr.w-pc (ldr.w pc, [pc, #imm]; .word target), code mode, 10 bytes; the 2 bytes after it are not part of it",
                "lands: 0x2000 (A32 state)",
            }));
        });
    }

    [Test]
    public void Arm64DataModeLiteralAsJson()
    {
        // Slot 4 mod 8 in data mode: LDR X16, #12 (imm19 = 3 → 0x58000070), BR X16, udf padding, the literal at 0x1010.
        var run = CliRun.Of("decode", "--arch", "aarch64", "--at", "0x1004", "--format", "json", "70000058" + "00021fd6" + "00000000" + "0020000000000000");
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;

        // Code mode reads these bytes as ldr-br too (its literal also sits at the next 8-aligned address), so the first match is code mode.
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Error);
            Assert.That(root.GetProperty("schema").GetString(), Is.EqualTo("hcrlab.decode/1"));
            Assert.That(root.GetProperty("form").GetString(), Is.EqualTo("ldr-br"));
            Assert.That(root.GetProperty("target").GetString(), Is.EqualTo("0x2000"));
            Assert.That(root.GetProperty("size").GetInt32(), Is.EqualTo(20));
            Assert.That(root.GetProperty("instructions").EnumerateArray().Select(i => i.GetProperty("text").GetString()).First(), Is.EqualTo("ldr x16, #0x1010"));
        });
    }

    [Test]
    public void A32BranchAndBytesThatAreNoJump()
    {
        // A32 B at 0x1000 with imm24 = 0x3FE lands at 0x1000 + 8 + 0xFF8 = 0x2000: the form b. NOP; RET on i386 is no jump.
        var arm = CliRun.Of("decode", "--arch", "arm", "--at", "0x1000", "fe0300ea");
        var nop = CliRun.Of("decode", "--arch", "i386", "--at", "0x1000", "90c3");

        Assert.Multiple(() =>
        {
            Assert.That(arm.OutputLines[^2..], Is.EqualTo(new[] { "form:  b (b label), code mode, 4 bytes", "lands: 0x2000 (A32 state)" }));
            Assert.That(nop.OutputLines, Is.EqualTo(new[]
            {
                "0x1000  90                    nop",
                "0x1001  c3                    ret",
                "form:  none of the lab's forms",
                "lands: unknown (the first instruction is not a direct jump)",
            }));
        });
    }

    [TestCase("e9f", "'e9f' is not bytes as hex (an even number of hex digits, e.g. e9fb0f0000)")]
    [TestCase("zz", "'zz' is not bytes as hex (an even number of hex digits, e.g. e9fb0f0000)")]
    public void MalformedBytesAreAUsageError(string hex, string message)
    {
        var run = CliRun.Of("decode", "--arch", "amd64", "--at", "0x1000", hex);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo($"hcrlab decode: {message}"));
        });
    }
}
