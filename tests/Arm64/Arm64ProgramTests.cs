using System.Text;

namespace HcrLab.Tests.Arm64;

/// <summary>
/// The runtime's arm64 C halves, run as aarch64 programs under qemu-aarch64: the fault guard (aarch64 sigcontext),
/// hcrtrial's checked call for AAPCS64, and the W^X double mapping with both slot forms (qemu's stale translations and
/// hcr_code_written's workaround). Expected lines are derived from the architecture, not from the code under test:
/// SIGSEGV is 11 and SEGV_MAPERR 1 for a load from the unmapped page 0x40, SIGTRAP is 5 and TRAP_BRKPT 1 for `brk`
/// (whose si_addr is its own PC), and each PC is the label of the faulting instruction in the module.
/// </summary>
[TestFixture]
[Category("Arm64")]
[NonParallelizable]
public sealed class Arm64ProgramTests
{
    private Arm64Toolchain _toolchain = null!;

    [OneTimeSetUp]
    public void BuildTools() => _toolchain = Arm64Toolchain.Require();

    [OneTimeTearDown]
    public void RemoveBuilds() => _toolchain?.Dispose();

    [Test]
    public void TheFaultGuardContainsFaultsInModuleCodeAndReportsTheirPc()
    {
        string module = _toolchain.Compile("guard-module.so", "-shared", Arm64Toolchain.Source("tests", "Arm64", "programs", "guard-module.s"));
        string host = _toolchain.Compile("guard-host", Arm64Toolchain.Source("tests", "Arm64", "programs", "guard-host.c"),
            Path.Combine(Arm64Toolchain.GuardOutput, "libhcrguard.a"), "-ldl", "-lpthread");

        var result = _toolchain.Run(host, module);

        Assert.That(result.Output.ReplaceLineEndings("\n"), Is.EqualTo("""
            install: 0
            load from 0x40: signal 11, si_code 1, address 0x40, pc load_from_fault
            brk: signal 5, si_code 1, address trap_at, pc trap_at
            fault after changing x19-x29, d8-d15 and FPCR: signal 11, si_code 1, address 0x40, pc wild_fault
            after it: x20 0x2020, fpcr restored
            return after changing them: signal 0, result 5, x20 0x2020, fpcr restored
            add(40, 2): signal 0, result 42
            strnlen of 0x40: signal 11
            strnlen of "module": signal 0, length 6
            realigned shim: the target itself

            """), result.Error);
        Assert.That(result.ExitCode, Is.Zero);
    }

    // Exit codes and verdicts as hcrtrial documents them: 0 passed, 5 stack-off, 6 registers-changed.
    [TestCase(0, 0, "passed", TestName = "ADestructorThatKeepsAapcs64Passes")]
    [TestCase(1, 6, "registers-changed", TestName = "ADestructorThatChangesX19IsRefused")]
    [TestCase(2, 6, "registers-changed", TestName = "ADestructorThatChangesX28IsRefused")]
    [TestCase(3, 6, "registers-changed", TestName = "ADestructorThatChangesX29IsRefused")]
    [TestCase(4, 6, "registers-changed", TestName = "ADestructorThatChangesD8IsRefused")]
    [TestCase(5, 6, "registers-changed", TestName = "ADestructorThatChangesD15IsRefused")]
    [TestCase(6, 5, "stack-off", TestName = "ADestructorThatReturnsWithSpOffIsRefused")]
    [TestCase(7, 5, "stack-off", TestName = "ADestructorThatReloadsItsFrameRecordFromTheWrongPlaceIsRefused")]
    [TestCase(8, 0, "passed", TestName = "ADestructorThatChangesOnlyX18AndD16Passes")]
    public void HcrtrialChecksTheAapcs64CalleeSavedState(int @case, int exitCode, string verdict)
    {
        string module = _toolchain.Compile($"trial{@case}.so", "-shared", "-fPIC", $"-DCASE={@case}",
            Arm64Toolchain.Source("tests", "Arm64", "programs", "trial-module.c"));

        var result = _toolchain.Run(Path.Combine(Arm64Toolchain.GuardOutput, "hcrtrial"), module);

        Assert.That(result.Output.ReplaceLineEndings("\n"), Is.EqualTo($"hcrtrial: verdict {verdict}\n"), result.Error);
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.Error);
    }

    // hcrtrial --start's plan (NUL-terminated fields): the host's proc host/tick, then module m at its path, new.
    [TestCase(false, 0, "passed", TestName = "AHostProcCalledWithAnAlignedSpAnswers")]
    [TestCase(true, 4, "misaligned-host-call", TestName = "AHostProcCalledWithSp8BytesOffEndsTheTrial")]
    public void TheTrialStartsHostProcStubChecksSpAlignment(bool misaligned, int exitCode, string verdict)
    {
        string module = _toolchain.Compile($"host-call-{misaligned}.so", "-shared", "-fPIC", $"-DMISALIGNED={(misaligned ? 1 : 0)}",
            Arm64Toolchain.Source("tests", "Arm64", "programs", "host-call-module.c"));
        byte[] plan = Encoding.UTF8.GetBytes($"host-proc\0host\0tick\0module\0m\0{module}\01\0");

        var result = _toolchain.RunWithInput(plan, Path.Combine(Arm64Toolchain.GuardOutput, "hcrtrial"), "--start");

        string unload = misaligned ? "" : "hcrtrial: at unload m\n";
        Assert.That(result.Output.ReplaceLineEndings("\n"), Is.EqualTo(
            "hcrtrial: at load m\nhcrtrial: at HcrInit000 m\nhcrtrial: at DatInit000 m\nhcrtrial: at Init000 m\n" +
            $"{unload}hcrtrial: verdict {verdict}\n"), result.Error);
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.Error);
    }

    [Test]
    public void CodeWrittenThroughTheSecondMappingRunsAfterHcrCodeWritten()
    {
        // qemu-user keeps its translation of a B slot written through the writable view (1 1 1): the experiment shows the
        // quirk is there, so the middle line proves hcr_code_written's re-map, and the literal form needs none of it.
        string experiment = _toolchain.Compile("double-mapping-experiment",
            Arm64Toolchain.Source("runtime", "Cpu", "Arm64", "double-mapping-experiment.c"),
            Path.Combine(Arm64Toolchain.GuardOutput, "libhcrguard.a"), "-lpthread");

        var result = _toolchain.Run(experiment);

        Assert.That(result.Output.ReplaceLineEndings("\n"), Is.EqualTo("""
            stale translations through the second mapping: yes
            B re-point, cache maintenance only: 1 1 1
            B re-point, hcr_code_written: 1 2 3
            literal re-point, no cache maintenance: 1 2 3

            """), result.Error);
        Assert.That(result.ExitCode, Is.Zero);
    }
}
