using HcrLab.Encoders;

namespace HcrLab.Lab.Emulation;

/// <summary>
/// Encodings that are right on the CPU but that Unicorn 2.0.1 runs wrongly, so the lab cannot judge them by running
/// them. Each is still decoded by the disassemblers; reports count them as unverified by execution, never as passed
/// silently.
/// </summary>
public static class EmulatorDefects
{
    /// <summary>One line naming every known defect, for reports.</summary>
    public const string Summary = "Unicorn 2.0.1 does not wrap an i386 jmp rel8 at 4 GiB (the CPU does; Intel SDM, JMP)";

    /// <summary>The defect that keeps the emulator from judging <paramref name="plan"/>, or null when it can.</summary>
    public static string? Describe(in JumpPlan plan)
    {
        // Intel SDM, JMP: with a 32-bit operand size, tempEIP = EIP + rel8 is a 32-bit sum, so a short jump wraps at
        // 4 GiB like a near one. Unicorn 2.0.1's QEMU truncates the target of E9 (rel32) to 32 bits but not that of
        // EB (rel8), and fetches from above 4 GiB instead (seen: EB 3E at 0xFFFFFFE0 faults fetching 0x1_0000_0020).
        if (plan.Form.Isa == InstructionSet.I386 && plan.Form.Kind == JumpKind.Relative && plan.Form.InstructionBytes == 2)
        {
            ulong next = plan.Slot + 2;
            ulong unwrapped = next + (ulong)(long)(sbyte)(plan.Target - next);
            if (unwrapped != plan.Target)
            {
                return "Unicorn 2.0.1 does not wrap a 32-bit jmp rel8 at 4 GiB (a real i386 does): checked by disassembly only";
            }
        }

        return null;
    }
}
