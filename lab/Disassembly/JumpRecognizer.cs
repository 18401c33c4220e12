using HcrLab.Encoders;

namespace HcrLab.Lab.Disassembly;

/// <summary>What <see cref="JumpRecognizer"/> found at the start of some bytes.</summary>
/// <param name="Plan">The lab's plan whose encoding is exactly the first <see cref="JumpPlan.Size"/> bytes.</param>
/// <param name="Report">Capstone's (and on x86 Iced's) view of those bytes, checked against the plan.</param>
public sealed record RecognizedJump(JumpPlan Plan, DisassemblyReport Report);

/// <summary>
/// Names the form of jump bytes, for <c>hcrlab decode</c>. The landing comes from the disassemblers: Capstone reads each
/// of the CPU's forms out of the bytes (a branch's destination, <c>adrp</c> + <c>add</c>, the literal the code loads);
/// the form is the one whose encoding to that landing, by the lab's encoder, gives back the same bytes.
/// </summary>
public static class JumpRecognizer
{
    /// <summary>The first form (shortest first, code mode before data mode) that the bytes at <paramref name="slot"/> are; null when none is.</summary>
    public static RecognizedJump? Recognize(InstructionSet isa, ulong slot, ReadOnlySpan<byte> bytes, JumpDisassembler disassembler)
    {
        var encoder = JumpEncoders.For(isa);
        foreach (var mode in new[] { PatchMode.Code, PatchMode.Data })
        {
            foreach (var form in encoder.Forms)
            {
                // A plan to the slot itself says where this form's instructions and literal sit; the decoders then read
                // the landing the bytes hold in that layout.
                ulong probeTarget = isa == InstructionSet.Thumb ? slot | 1 : slot;
                if (!encoder.TryPlan(form, slot, probeTarget, mode, out var probe, out _) || bytes.Length < probe.Size
                    || disassembler.Check(probe, bytes).DecodedTarget is not { } landing)
                {
                    continue;
                }

                // A direct branch's destination has no Thumb bit; a literal keeps the one it stores. Both readings are tried.
                ulong[] candidates = encoder.Facts.HasThumbBit ? [landing, landing | 1, landing & ~1UL] : [landing];
                foreach (ulong target in candidates.Distinct())
                {
                    if (encoder.TryPlan(form, slot, target, mode, out var plan, out _) && bytes.Length >= plan.Size)
                    {
                        var encoded = new byte[plan.Size];
                        encoder.Encode(plan, encoded);
                        if (bytes[..plan.Size].SequenceEqual(encoded))
                        {
                            return new RecognizedJump(plan, disassembler.Check(plan, bytes));
                        }
                    }
                }
            }
        }

        return null;
    }
}
