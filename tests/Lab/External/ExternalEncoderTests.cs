using System.Text.Json;
using HcrLab.Lab.Cli;
using HcrLab.Lab.External;
using HcrLab.Tests.Cli;
using HcrLab.Tests.Native;

namespace HcrLab.Tests.Lab.External;

/// <summary>
/// <c>hcrlab verify --encoder</c>: the zoo's correct encoder passes, each planted bug fails with its own sentence, and a
/// hanging, crashing or babbling encoder fails the one case it spoiled while the run goes on.
/// </summary>
[Category("Lab")]
public sealed class ExternalEncoderTests
{
    private static readonly string Zoo = Path.Combine(NativeToolchain.RepositoryRoot, "lab", "examples", "zoo.py");
    private static readonly string Misbehaving = Path.Combine(NativeToolchain.RepositoryRoot, "tests", "Lab", "External", "misbehaving.py");

    [OneTimeSetUp]
    public void RequirePython()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.Ignore("python3 is not installed (./build.sh installs it)");
        }
    }

    [Test]
    public void TheCorrectZooEncoderPassesOnEveryCpu()
    {
        var (run, report) = Verify($"python3 {Zoo}", "--random", "500");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Output + run.Error);
            Assert.That(report.Failed, Is.Zero);
            Assert.That(report.Rows.Select(r => r.Arch).Distinct(), Is.EquivalentTo(new[] { "i386", "amd64", "arm", "thumb", "arm64" }));
            Assert.That(report.Rows.Sum(r => r.Random), Is.GreaterThan(0));
        });
    }

    [Test]
    public void OnBothTheAnswersAlsoRunOnThisCpu()
    {
        Assume.That(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture, Is.EqualTo(System.Runtime.InteropServices.Architecture.X64));
        var (run, report) = Verify($"python3 {Zoo}", "--arch", "amd64,i386", "--on", "both", "--random", "300");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Output + run.Error);
            Assert.That(report.HostNotes!.Select(n => n.Split(';')[0]),
                Is.EqualTo(new[] { "i386: emulator and this machine's CPU", "amd64: emulator and this machine's CPU" }));
            Assert.That(report.HostSkipped, Is.LessThan(report.Cases / 10), "most answers must run on the CPU");
        });
    }

    [Test]
    public void TheCorrectCEncoderPassesOnEveryCpu()
    {
        string binary = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"zoo-c-{Guid.NewGuid():N}");
        try
        {
            var gcc = System.Diagnostics.Process.Start("gcc", ["-O2", "-Wall", "-Werror", "-o", binary, Path.ChangeExtension(Zoo, ".c")])!;
            Assert.That(gcc.WaitForExit(TimeSpan.FromMinutes(1)) && gcc.ExitCode == 0, Is.True, "gcc could not build lab/examples/zoo.c");
            var (run, report) = Verify(binary, "--random", "500");

            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Output + run.Error);
                Assert.That(report.Rows.Select(r => r.Arch).Distinct(), Has.Exactly(5).Items);
            });
        }
        finally
        {
            File.Delete(binary);
        }
    }

    // Each expected sentence is worked out from the matrix (lab/Verification/CaseMatrix.cs: 32-bit slots at 0x4000_0000,
    // 64-bit ones at 0x2_0000_0000; 'near+' is slot + 0x40) and the manuals, not read from the lab:
    // - pc-bias, arm: b to 0x40000040 from 0x40000000 encodes (0x40 - 4) / 4 = 15 words; the CPU adds them to slot + 8,
    //   landing at 0x40000044. thumb: b.n to 0x40000041 encodes (0x40 - 2) / 2; the CPU adds it to slot + 4: 0x40000042.
    // - inclusive-limit: b at +2^27 ('past+' = 0x208000000) puts 2^25 in the 26-bit field, which reads back as -2^25
    //   words: 0x200000000 - 2^27 = 0x1f8000000.
    // - adrp-page-limit: 'past+' of adrp is page + 2^32 = 0x300000000; a delta of 2^20 pages in the 21-bit field reads
    //   back as -2^20 pages, so adrp yields 0x200000000 - 2^32 = 0x100000000, unmapped, where the fetch faults.
    // - thumb-bit: the Thumb target 0x40000041 stored without bit 0 is 0x40000040, in the literal word after the ldr.
    // - unaligned-literal: jmp [...] is 6 bytes, so its literal at slot + 6 is 2 mod 4 (i386) and 6 mod 8 (amd64).
    // - wrong-scratch: past+ of b (0x208000000) is the first target b cannot reach, so adrp-add-br via x17 runs.
    // - i386-wrap: 'wrap-' from slot 0x40 is 0x40 + 2 - 0x1040 mod 2^32 = 0xfffff002; unwrapped it is -4 GiB away, yet
    //   rel32 (5 bytes) reaches every 32-bit address.
    [TestCase("pc-bias", "arm", "0x40000000", "0x40000040", "wrong target: 'b #0x40000044' at 0x40000000 branches to 0x40000044, not 0x40000040")]
    [TestCase("pc-bias", "thumb", "0x40000000", "0x40000041", "wrong target: 'b #0x40000042' at 0x40000000 branches to 0x40000042, not 0x40000040")]
    [TestCase("inclusive-limit", "arm64", "0x200000000", "0x208000000", "wrong target: 'b #0x1f8000000' at 0x200000000 branches to 0x1f8000000, not 0x208000000")]
    [TestCase("adrp-page-limit", "arm64", "0x200000000", "0x300000000",
        "wrong target: the emulated CPU faulted at 0x100000000 (Invalid memory fetch (UC_ERR_FETCH_UNMAPPED)) instead of running the stub at 0x300000000")]
    [TestCase("thumb-bit", "arm", "0x40000000", "0x40000041",
        "wrong state: the literal at +4 holds 0x40000040 without the Thumb bit, so the Thumb target 0x40000041 runs in A32 state")]
    [TestCase("unaligned-literal", "i386", "0x40000000", "0x40000040",
        "data mode: the literal at +6 (0x40000006) is not 4-byte aligned, so re-pointing it is not one atomic store")]
    [TestCase("unaligned-literal", "amd64", "0x200000000", "0x200000040",
        "data mode: the literal at +6 (0x200000006) is not 8-byte aligned, so re-pointing it is not one atomic store")]
    [TestCase("wrong-scratch", "arm64", "0x200000000", "0x208000000", "clobbered x17 beyond the declared scratch set (x16)")]
    [TestCase("i386-wrap", "i386", "0x40", "0xfffff002", "missed reach: refused, but rel32 reaches (5 bytes)")]
    public void EachPlantedBugFailsWithItsSentence(string bug, string arch, string slot, string target, string sentence)
    {
        var (run, report) = Verify($"python3 {Zoo} --bug {bug}", "--arch", arch, "--random", "0", "--max-failures", "1");
        var first = report.Failures.Single();
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.CheckFailed));
            Assert.That((first.Arch, first.Slot, first.Target, first.Reason), Is.EqualTo((arch, slot, target, sentence)));
        });
    }

    [TestCase("crash", "encoder crash: it exited with code 3 before answering 'arm code 0x40000000 0x40000040'; it was restarted")]
    [TestCase("malformed", "malformed answer: 'e9zz' is not an even number of hex digits")]
    [TestCase("overlong", "overlong answer: 40 bytes, more than the 32 a slot may use")]
    public void AMisbehavingAnswerFailsItsCaseAndTheRunGoesOn(string behaviour, string sentence)
    {
        var (run, report) = Verify($"python3 {Misbehaving} {behaviour} 'arm code 0x40000000 0x40000040'", "--arch", "arm", "--random", "50");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.CheckFailed));
            Assert.That(report.Failed, Is.EqualTo(1), run.Output);
            Assert.That(report.Failures.Single().Reason, Is.EqualTo(sentence));
            Assert.That(report.Cases, Is.GreaterThan(100));
        });
    }

    [Test]
    public void AHangingEncoderIsKilledWithItsProcessGroupAndRestarted()
    {
        string pidFile = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"hang-{Guid.NewGuid():N}.pid");
        try
        {
            var (run, report) = Verify(
                $"python3 {Misbehaving} hang 'arm64 code 0x200000000 0x200000040' {pidFile}", "--arch", "arm64", "--random", "0", "--encoder-timeout", "1");
            int grandchild = int.Parse(File.ReadAllText(pidFile));

            Assert.Multiple(() =>
            {
                Assert.That(report.Failed, Is.EqualTo(1), run.Output);
                Assert.That(report.Failures.Single().Reason, Is.EqualTo(
                    "encoder hang: no answer to 'arm64 code 0x200000000 0x200000040' within 1 s; its process group was killed and it was restarted"));
                Assert.That(ProcessGone.Within(grandchild, TimeSpan.FromSeconds(10)), Is.True, $"the encoder's child {grandchild} outlived the kill");
            });
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Test]
    public void EncodeBatchPassesThroughAnExternalEncoder()
    {
        // README's example: thumb 0x1002 -> 0x2000 is ldr.w pc, [pc, #4]; udf #0; .word 0x2000. 0x1001 is no Thumb slot.
        var run = CliRun.WithInput("0x1002 0x2000\n0x1001 0x2000\n", "encode", "--arch", "thumb", "--batch", "--encoder", $"python3 {Zoo}");

        Assert.Multiple(() =>
        {
            Assert.That(run.Output.ReplaceLineEndings("\n"), Is.EqualTo("dff804f000de00200000\n\n"));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo("line 2: the encoder refused: refused: thumb code 0x1001 0x2000: slot misaligned")
                .Or.EqualTo("line 2: the encoder refused"));
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.CheckFailed));
        });
    }

    [Test]
    public void ABadHandshakeIsAUsageErrorNamingTheProblem()
    {
        var run = CliRun.Of("verify", "--encoder", "echo hcrlab-encoder 2 cpus=arm64");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo(
                "hcrlab verify: the encoder 'echo hcrlab-encoder 2 cpus=arm64': the encoder speaks protocol version 2; this hcrlab speaks 1"));
        });
    }

    [TestCase("python3 zoo.py --bug 'pc bias'", "python3", "zoo.py|--bug|pc bias")]
    [TestCase("a \"b \\\"c\" d\\ e", "a", "b \"c|d e")]
    public void ACommandIsSplitLikeAShellsSimpleCommand(string command, string program, string arguments)
    {
        var line = EncoderCommandLine.Parse(command);
        Assert.That((line.Program, string.Join('|', line.Arguments), line.ViaShell), Is.EqualTo((program, arguments, false)));
    }

    [TestCase("cd lab && ./enc")]
    [TestCase("enc $HOME")]
    [TestCase("enc 2>/dev/null")]
    public void ShellSyntaxRunsThroughSh(string command)
    {
        var line = EncoderCommandLine.Parse(command);
        Assert.That((line.Program, line.Arguments, line.ViaShell), Is.EqualTo(("/bin/sh", new[] { "-c", command }, true)));
    }

    [TestCase("enc 'unterminated", "--encoder: unterminated single quote in 'enc 'unterminated'")]
    [TestCase("  ", "--encoder: the command is empty")]
    public void ABadCommandIsRefused(string command, string message) =>
        Assert.That(() => EncoderCommandLine.Parse(command), Throws.TypeOf<FormatException>().With.Message.EqualTo(message));

    [Test]
    public void TheHandshakeDeclaresCpusModesAndScratch()
    {
        var handshake = EncoderHandshake.Parse("hcrlab-encoder 1 cpus=arm64,amd64 modes=code,data scratch=arm64:x16,amd64:r11 future=ignored");
        Assert.Multiple(() =>
        {
            Assert.That(handshake.Cpus.Select(c => c.ToString()), Is.EqualTo(new[] { "Amd64", "Arm64" }));
            Assert.That(handshake.Modes, Has.Count.EqualTo(2));
            Assert.That(handshake.ScratchOf(HcrLab.Encoders.InstructionSet.Arm64), Is.EquivalentTo(new[] { "x16" }));
            Assert.That(handshake.ScratchOf(HcrLab.Encoders.InstructionSet.Amd64), Is.EquivalentTo(new[] { "r11" }));
            Assert.That(() => EncoderHandshake.Parse("hcrlab-encoder 1 cpus=arm64 scratch=arm64:sp"),
                Throws.TypeOf<FormatException>().With.Message.StartsWith("scratch register 'sp' is not a general register the lab checks on arm64"));
        });
    }

    private static (CliRun Run, ReportDocument Report) Verify(string encoder, params string[] args)
    {
        string json = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"external-{Guid.NewGuid():N}.json");
        try
        {
            var run = CliRun.Of(["verify", "--encoder", encoder, "--json", json, .. args]);
            Assert.That(File.Exists(json), Is.True, run.Output + run.Error);
            return (run, JsonSerializer.Deserialize<ReportDocument>(File.ReadAllText(json), ReportDocument.Json)!);
        }
        finally
        {
            File.Delete(json);
        }
    }
}
