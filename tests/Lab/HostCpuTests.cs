using System.Runtime.InteropServices;
using System.Text.Json;
using HcrLab.Encoders;
using HcrLab.Lab.Cli;
using HcrLab.Lab.Emulation;
using HcrLab.Lab.Host;
using HcrLab.Lab.Verification;
using HcrLab.Tests.Cli;

namespace HcrLab.Tests.Lab;

/// <summary><c>verify --on both</c>: amd64 and i386 cases run on this x86-64 CPU too, and a disagreement is a failure of its own.</summary>
[Category("Lab")]
public sealed class HostCpuTests
{
    [OneTimeSetUp]
    public void RequireX64() =>
        Assume.That(RuntimeInformation.OSArchitecture, Is.EqualTo(Architecture.X64), "the host runner serves x86-64 machines");

    [TestCase(InstructionSet.Amd64, 0x2_0000_0000UL, 0x2_0000_0040UL, "e93b000000")]
    [TestCase(InstructionSet.I386, 0x4000_0000UL, 0x4000_0040UL, "e93b000000")]
    public void TheCpuRunsASlotAtItsOwnAddress(InstructionSet isa, ulong slot, ulong target, string bytes)
    {
        // jmp rel32 with 0x3b: slot + 5 + 0x3b = slot + 0x40, the target (Intel SDM, JMP: E9 cd, relative to the next instruction).
        using var host = HostCpu.For(isa, out string? why);
        Assert.That(host, Is.Not.Null, why);
        Span<byte> stub = stackalloc byte[TargetStub.MaxSize];
        int size = TargetStub.Write(isa, 0x1234_5678, stub);

        var outcome = host!.Run(slot, Convert.FromHexString(bytes), target, stub[..size]);

        Assert.That(outcome.ToString(), Is.EqualTo("returned 0x12345678"));
    }

    [Test]
    public void AStepTheCpuRunsDifferentlyIsADisagreement()
    {
        // The emulator (here a stand-in) says the slot reached its stub; the bytes are a bare ret (C3), so on the CPU the
        // call returns at once with rax as the caller left it: the slot's address, whose low 32 bits are 0. The stub's
        // value is (0x200000040 · 0x9E3779B97F4A7C15 mod 2^64) >> 40 << 4 | 3 = 0x8c73663 (role 3: the host's stubs).
        var plan = JumpEncoders.For(InstructionSet.Amd64).Plan(0x2_0000_0000, 0x2_0000_0040, PatchMode.Code);
        var c = new JumpCase(InstructionSet.Amd64, null, PatchMode.Code, plan.Slot, plan.Target, 0x7_0000_0000, "near+");
        var passed = new CaseResult(c, "rel8", null, [new CaseStep("first write", plan, "c3", [])]);
        using var host = HostCpu.For(InstructionSet.Amd64, out string? why);
        Assert.That(host, Is.Not.Null, why);
        using var runner = new HostCheckedRunner(new Fixed(passed), host!);

        var result = runner.Run(c);

        Assert.That(result.Failure, Is.EqualTo(
            "emulator and CPU disagree on the first write: the emulator ran it to the stub at 0x200000040; the CPU: returned 0x0 (expected 0x8c73663 from the stub)"));
    }

    [Test]
    public void VerifyOnBothPassesForAmd64AndI386WithNoDisagreement()
    {
        string json = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"onboth-{Guid.NewGuid():N}.json");
        try
        {
            var run = CliRun.Of("verify", "--arch", "amd64,i386", "--on", "both", "--random", "500", "--json", json);
            var report = JsonSerializer.Deserialize<ReportDocument>(File.ReadAllText(json), ReportDocument.Json)!;

            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Output + run.Error);
                Assert.That(report.HostNotes, Has.Exactly(2).StartsWith("i386: emulator and this machine's CPU").Or.StartsWith("amd64: emulator and this machine's CPU"));
                Assert.That(report.HostSkipped, Is.LessThan(report.Cases / 10), "most cases must run on the CPU");
            });
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Test]
    public void TheHelpersArm64HalfRunsASlotUnderQemu()
    {
        if (!File.Exists("/usr/bin/aarch64-linux-gnu-gcc") || !File.Exists("/usr/bin/qemu-aarch64"))
        {
            Assert.Ignore("needs aarch64-linux-gnu-gcc and qemu-aarch64 (gcc-aarch64-linux-gnu, qemu-user)");
        }

        string helper = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"hcrhostrun-arm64-{Guid.NewGuid():N}");
        try
        {
            string source = Path.Combine(HcrLab.Tests.Native.NativeToolchain.RepositoryRoot, "lab", "Host", "hcrhostrun.c");
            using (var gcc = System.Diagnostics.Process.Start("aarch64-linux-gnu-gcc", ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", helper, source])!)
            {
                Assert.That(gcc.WaitForExit(TimeSpan.FromMinutes(1)) && gcc.ExitCode == 0, Is.True, "aarch64-linux-gnu-gcc could not build hcrhostrun.c");
            }

            Span<byte> stub = stackalloc byte[TargetStub.MaxSize];
            string stubHex = Convert.ToHexStringLower(stub[..TargetStub.Write(InstructionSet.Arm64, 0x1234_5678, stub)]);

            // b #0x40 (Arm ARM, B: imm26 = 0x10 → 0x14000010) reaches the stub; mov x1, #0 (movz: 0xd2800001); ret
            // returns at once with x0 = the slot's address (low 32 bits 0) and x1 changed.
            var start = new System.Diagnostics.ProcessStartInfo("qemu-aarch64", [helper]) { RedirectStandardInput = true, RedirectStandardOutput = true };
            using var qemu = System.Diagnostics.Process.Start(start)!;
            qemu.StandardInput.Write($"200000000 10000014 200000040 {stubHex}\n200000000 010080d2c0035fd6 200000040 {stubHex}\n");
            qemu.StandardInput.Close();
            var read = qemu.StandardOutput.ReadToEndAsync();
            if (!read.Wait(TimeSpan.FromMinutes(1)) || !qemu.WaitForExit(TimeSpan.FromMinutes(1)))
            {
                qemu.Kill(entireProcessTree: true);
                Assert.Fail("qemu-aarch64 running hcrhostrun did not finish within a minute");
            }

            string output = read.Result;

            Assert.That(output, Is.EqualTo("hcrhostrun 1\nran 12345678 -\nran 0 x1\n"));
        }
        finally
        {
            File.Delete(helper);
        }
    }

    /// <summary>An emulator stand-in that returns one prepared result.</summary>
    private sealed class Fixed(CaseResult result) : ICaseRunner
    {
        public InstructionSet Isa => result.Case.Isa;

        public bool IsReserved(ulong address, int length) => false;

        public JumpCase? Adapt(JumpCase c) => c;

        public CaseResult Run(JumpCase c) => result;

        public void Dispose()
        {
        }
    }
}
