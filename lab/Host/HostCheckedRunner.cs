using HcrLab.Encoders;
using HcrLab.Lab.Emulation;
using HcrLab.Lab.Verification;

namespace HcrLab.Lab.Host;

/// <summary>
/// Runs each case in the emulator and then every step of it (the first write, each re-point) on this machine's CPU,
/// the bytes at the case's own addresses: a step the emulator passed and the CPU does not, or one the emulator could
/// not run (a known emulator defect) and the CPU fails, is a disagreement — a failure of its own. A step the emulator
/// could not run and the CPU passes makes the case verified by execution after all. A case whose pages cannot be mapped
/// here is counted as skipped on the CPU, with the reason.
/// </summary>
public sealed class HostCheckedRunner(ICaseRunner emulator, HostCpu host) : ICaseRunner
{
    public InstructionSet Isa => emulator.Isa;

    public bool IsReserved(ulong address, int length) => emulator.IsReserved(address, length);

    public JumpCase? Adapt(JumpCase c) => emulator.Adapt(c);

    public CaseResult Run(JumpCase c)
    {
        var result = emulator.Run(c);
        if (!result.Passed)
        {
            return result;
        }

        Span<byte> stub = stackalloc byte[TargetStub.MaxSize];
        foreach (var step in result.Steps)
        {
            uint value = CaseRunner.StubValue(step.Plan.Target, 3);
            int size = TargetStub.Write(Isa, value, stub);
            var outcome = host.Run(step.Plan.Slot, Convert.FromHexString(step.Bytes), step.Plan.Target, stub[..size]);
            if (outcome.Skipped is { } reason)
            {
                return result with { HostSkipped = reason };
            }

            if (!outcome.Returned(value))
            {
                bool emulated = result.Unverified is not { } defect || !defect.StartsWith(step.What, StringComparison.Ordinal);
                return result with { Failure = Disagreement(step.What, emulated, step.Plan.Target, outcome, value) };
            }
        }

        return result with { Unverified = null };
    }

    /// <summary>The failure sentence of a step the emulator passed (or could not run) and the CPU ran differently.</summary>
    public static string Disagreement(string what, bool emulated, ulong target, HostOutcome outcome, uint expected) =>
        $"emulator and CPU disagree on the {what}: the emulator "
        + (emulated ? $"ran it to the stub at 0x{target:x}" : "could not run it (a known emulator defect)")
        + $"; the CPU: {outcome} (expected 0x{expected:x} from the stub)";

    public void Dispose()
    {
        emulator.Dispose();
        host.Dispose();
    }
}
