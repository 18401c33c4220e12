using System.Buffers.Binary;

namespace HcrLab.Encoders;

/// <summary>
/// What a CPU's manual promises about code that changes while another core executes it, checked against a slot write's
/// stores. An emulator that runs every intermediate state correctly proves less than this: a real core may fetch an
/// instruction in pieces, or keep a stale one, where the manual does not promise otherwise. The rules, per CPU:
/// <list type="bullet">
/// <item><b>Every CPU.</b> A store that changes bytes a caller may be executing or loading is single-copy atomic
/// (naturally aligned, at most <see cref="CpuFacts.MaxAtomicStore"/> bytes), and after each store the slot's instructions
/// are whole: the old ones, the new ones or the entry's self-loop, with the live form's literal whole (never a new
/// literal-loading sequence in front of its stale literal). On ARM a changed instruction is written whole by one store:
/// the rules below speak of an instruction replaced by another.</item>
/// <item><b>arm64.</b> Arm ARM for A-profile (DDI 0487), B2.2.5 "Concurrent modification and execution of
/// instructions": "the architecture limits the set of instructions that can be executed by one thread of execution as
/// they are being modified by another thread of execution without requiring explicit synchronization"; only when both the
/// old and the new instruction are <c>B</c>, <c>BL</c>, <c>BRK</c>, <c>HVC</c>, <c>ISB</c>, <c>NOP</c>, <c>SMC</c> or
/// <c>SVC</c> is the result "consistent with execution of either the instruction originally fetched or a fetch of the
/// modified instruction". Any other change needs every core synchronised (quiescence).</item>
/// <item><b>A32 and Thumb.</b> ARMv7-A/R ARM (DDI 0406C), A3.5.4 "Concurrent modification and execution of
/// instructions": the same promise for A32 <c>B</c>, <c>BL</c>, <c>NOP</c>, <c>BKPT</c>, <c>SVC</c>, <c>HVC</c>,
/// <c>SMC</c>, and in Thumb only for the 16-bit <c>B</c>, <c>NOP</c>, <c>BKPT</c> and <c>SVC</c> (and a <c>BL</c>'s first
/// halfword); a 32-bit Thumb instruction is two halfwords, so changing one (a <c>B.W</c> included) in place is not
/// covered, and a 4-byte store of one that is not 4-aligned is not even single-copy atomic (A3.5.3).</item>
/// <item><b>x86.</b> The Intel SDM's rule (Vol. 3A, 9.1.3 "Handling Self- and Cross-Modifying Code"; 8.1.3 in older
/// editions) has the executing processor serialise after the change, which callers of a slot do not do, so it promises
/// less than hot patchers rely on. HcrLab follows the established practice instead: an instruction's displacement (or
/// a literal) rewritten whole by one aligned store that stays within one cache line, opcode bytes untouched, as JVMs
/// patch call sites; or, to change an opcode, the entry parked first — HotSpot's <c>jmp $</c> of
/// <c>NativeGeneralJump::replace_mt_safe</c>, the loop form of Linux's breakpoint-first <c>text_poke_bp</c> — with the
/// entry written last.</item>
/// </list>
/// </summary>
public static class StoreRules
{
    [Flags]
    private enum Live
    {
        None = 0,
        Old = 1,
        New = 2,
        Parked = 4,
    }

    /// <summary>
    /// The rules <paramref name="writes"/> breaks, one sentence each; empty when it keeps them all, or when it does not
    /// claim to be safe while callers run (<see cref="SlotWrites.WhileCallersRun"/>): nothing executes during such a write.
    /// </summary>
    public static IReadOnlyList<string> Check(CpuFacts facts, SlotWrites writes)
    {
        var violations = new List<string>();
        if (!writes.WhileCallersRun || writes.Previous is not { } old)
        {
            return violations;
        }

        var plan = writes.Plan;
        var before = writes.Before.Span;
        var after = writes.After.Span;
        var image = before.ToArray();
        int count = writes.Stores.Count;
        for (int k = 0; k < count; k++)
        {
            var store = writes.Stores[k];
            string which = $"store {k + 1} of {count} ({store})";
            long offset = (long)(store.Address - writes.Slot);
            if (offset < 0 || offset + store.Width > image.Length)
            {
                violations.Add($"{which} lies outside the slot's {image.Length} bytes");
                return violations;
            }

            var live = LiveOf(facts, old, plan, before, after, image);
            var previous = image.ToArray();
            store.ApplyTo(image, writes.Slot);
            bool touchesInstructions = false, touchesLive = false;
            for (int i = (int)offset; i < offset + store.Width; i++)
            {
                if (previous[i] != image[i] && IsLive(facts, live, old, plan, i, out bool instruction))
                {
                    touchesLive = true;
                    touchesInstructions |= instruction;
                }
            }

            if (touchesLive && SlotStore.WhyNotAtomic(facts, store.Address, store.Width) is { } notAtomic)
            {
                violations.Add($"{which} is not single-copy atomic ({notAtomic}) yet changes bytes a caller may be "
                    + $"{(touchesInstructions ? "executing" : "loading")}, so a caller can see old and new bytes mixed ({AtomicitySection(facts)})");
            }

            if (touchesInstructions && InstructionRule(facts, live, old, plan, previous, image, store, writes, which) is { } broken)
            {
                violations.Add(broken);
            }

            var liveAfter = LiveOf(facts, old, plan, before, after, image);
            if (liveAfter == Live.None)
            {
                violations.Add($"after {which} the slot's instructions are neither the old {old.Form.Name}, the new {plan.Form.Name} nor the "
                    + $"self-loop: a caller runs {Convert.ToHexStringLower(image.AsSpan(0, Math.Max(old.Form.InstructionBytes, plan.Form.InstructionBytes)))}");
                return violations;
            }

            if (StaleLiteral(liveAfter, old, plan, before, after, image) is { } stale)
            {
                violations.Add($"after {which} {stale}");
            }
        }

        return violations;
    }

    private static Live LiveOf(CpuFacts facts, in JumpPlan old, in JumpPlan plan, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, ReadOnlySpan<byte> image)
    {
        var loop = facts.SelfLoop;
        if (image[..loop.Length].SequenceEqual(loop))
        {
            return Live.Parked;
        }

        var live = Live.None;
        if (Same(image, before, old.Instructions))
        {
            live |= Live.Old;
        }

        if (Same(image, after, plan.Instructions))
        {
            live |= Live.New;
        }

        return live;
    }

    private static bool Same(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ByteRange range) =>
        a.Slice(range.Offset, range.Length).SequenceEqual(b.Slice(range.Offset, range.Length));

    private static bool IsLive(CpuFacts facts, Live live, in JumpPlan old, in JumpPlan plan, int i, out bool instruction)
    {
        instruction = false;
        if (live == Live.Parked)
        {
            instruction = i < facts.SelfLoop.Length;
            return instruction;
        }

        return (live.HasFlag(Live.Old) && Covers(old, i, ref instruction)) | (live.HasFlag(Live.New) && Covers(plan, i, ref instruction));
    }

    private static bool Covers(in JumpPlan p, int i, ref bool instruction)
    {
        if (i >= p.Instructions.Offset && i < p.Instructions.End)
        {
            instruction = true;
            return true;
        }

        return !p.Literal.IsEmpty && i >= p.Literal.Offset && i < p.Literal.End;
    }

    private static string? StaleLiteral(Live live, in JumpPlan old, in JumpPlan plan, ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, ReadOnlySpan<byte> image)
    {
        if (live.HasFlag(Live.New) && !plan.Literal.IsEmpty && !Same(image, after, plan.Literal)
            && !(live.HasFlag(Live.Old) && old.Literal == plan.Literal && Same(image, before, plan.Literal)))
        {
            return $"the new {plan.Form.Name} is live while its literal at +{plan.LiteralOffset} holds "
                + $"{Convert.ToHexStringLower(image.Slice(plan.LiteralOffset, plan.Form.LiteralBytes))}, not the new target: a caller loads a stale literal";
        }

        if (live == Live.Old && !old.Literal.IsEmpty && !Same(image, before, old.Literal))
        {
            return $"the old {old.Form.Name} is live while its literal at +{old.LiteralOffset} holds "
                + $"{Convert.ToHexStringLower(image.Slice(old.LiteralOffset, old.Form.LiteralBytes))}, neither target";
        }

        return null;
    }

    private static string? InstructionRule(
        CpuFacts facts, Live live, in JumpPlan old, in JumpPlan plan, byte[] previous, byte[] image, SlotStore store, SlotWrites writes, string which)
    {
        // ARM's rules speak of an instruction replaced by another: the store must write the whole instruction.
        string? PartOf(SlotStore s, SlotWrites w, int offset, int size) =>
            s.Address <= w.Slot + (ulong)offset && w.Slot + (ulong)(offset + size) <= s.End
                ? null
                : $"{which} writes only part of the {size * 8}-bit instruction at +{offset}: the concurrent-modification rules "
                    + "cover an instruction replaced whole by one single-copy-atomic store";

        switch (facts.Isa)
        {
            case InstructionSet.I386 or InstructionSet.Amd64:
                {
                    bool parks = image.AsSpan(0, facts.SelfLoop.Length).SequenceEqual(facts.SelfLoop);
                    if (parks || live == Live.Parked)
                    {
                        return null;
                    }

                    // Each x86 form is one instruction: FF 25 (opcode and ModRM) or one opcode byte, then the displacement.
                    var form = live.HasFlag(Live.Old) ? old.Form : plan.Form;
                    int opcodeBytes = form.Kind == JumpKind.Literal ? 2 : 1;
                    if (previous.AsSpan(0, opcodeBytes).SequenceEqual(image.AsSpan(0, opcodeBytes)))
                    {
                        return null;
                    }

                    return $"{which} rewrites the opcode of the live {form.Name} in place ({Convert.ToHexStringLower(previous.AsSpan(0, opcodeBytes))} → "
                        + $"{Convert.ToHexStringLower(image.AsSpan(0, opcodeBytes))}): the SDM (Vol. 3A, 9.1.3 \"Handling Self- and Cross-Modifying "
                        + "Code\") wants the executing core serialised, and the practice x86 patchers rely on instead only rewrites an aligned "
                        + "displacement within one cache line (JVM call sites) or parks the entry first (text_poke_bp, HotSpot's jmp $)";
                }

            case InstructionSet.Arm64 or InstructionSet.A32:
                {
                    bool a64 = facts.Isa == InstructionSet.Arm64;
                    for (int i = 0; i + 4 <= image.Length; i += 4)
                    {
                        uint was = BinaryPrimitives.ReadUInt32LittleEndian(previous.AsSpan(i));
                        uint now = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(i));
                        if (was == now || !IsLive(facts, live, old, plan, i, out bool instruction) || !instruction)
                        {
                            continue;
                        }

                        if (PartOf(store, writes, i, 4) is { } part)
                        {
                            return part;
                        }

                        string? wasName = a64 ? Arm64Swappable(was) : A32Swappable(was);
                        string? nowName = a64 ? Arm64Swappable(now) : A32Swappable(now);
                        if (wasName is null || nowName is null)
                        {
                            return $"{which} changes the instruction at +{i} from {wasName ?? Arm64Name(a64, was)} to {nowName ?? Arm64Name(a64, now)} while a caller may "
                                + (a64
                                    ? "execute it: the Arm ARM (DDI 0487, B2.2.5 \"Concurrent modification and execution of instructions\") promises the old or the new instruction only when both are B, BL, BRK, HVC, ISB, NOP, SMC or SVC"
                                    : "execute it: the ARMv7-A/R ARM (A3.5.4 \"Concurrent modification and execution of instructions\") promises the old or the new instruction only when both are B, BL, NOP, BKPT, SVC, HVC or SMC")
                                + "; anything else needs the quiescence the runtime tracks";
                        }
                    }

                    return null;
                }

            default:
                {
                    for (int i = 0; i + 2 <= image.Length;)
                    {
                        ushort was = BinaryPrimitives.ReadUInt16LittleEndian(previous.AsSpan(i));
                        int size = IsThumbWide(was) ? 4 : 2;
                        bool changed = !previous.AsSpan(i, Math.Min(size, image.Length - i)).SequenceEqual(image.AsSpan(i, Math.Min(size, image.Length - i)));
                        if (changed && IsLive(facts, live, old, plan, i, out bool instruction) && instruction)
                        {
                            ushort now = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(i));
                            if (size == 2 && !IsThumbWide(now) && PartOf(store, writes, i, 2) is { } part)
                            {
                                return part;
                            }

                            if (size == 4 || IsThumbWide(now))
                            {
                                return $"{which} changes the 32-bit Thumb instruction at +{i} ({Convert.ToHexStringLower(previous.AsSpan(i, Math.Min(4, previous.Length - i)))} → "
                                    + $"{Convert.ToHexStringLower(image.AsSpan(i, Math.Min(4, image.Length - i)))}) while a caller may execute it: the ARMv7-A/R ARM "
                                    + "(A3.5.4 \"Concurrent modification and execution of instructions\") promises old-or-new in Thumb only for the 16-bit B, NOP, BKPT and SVC";
                            }

                            if (ThumbSwappable(was) is null || ThumbSwappable(now) is null)
                            {
                                return $"{which} changes the Thumb instruction at +{i} from 0x{was:X4} to 0x{now:X4} while a caller may execute it: the ARMv7-A/R ARM "
                                    + "(A3.5.4) promises old-or-new in Thumb only for the 16-bit B, NOP, BKPT and SVC";
                            }
                        }

                        i += size;
                    }

                    return null;
                }
        }
    }

    private static string AtomicitySection(CpuFacts facts) => facts.Isa switch
    {
        InstructionSet.I386 or InstructionSet.Amd64 => "Intel SDM Vol. 3A, 9.1.1 \"Guaranteed Atomic Operations\"",
        InstructionSet.Arm64 => "Arm ARM DDI 0487, B2.2.1 \"Requirements for single-copy atomicity\"",
        _ => "ARMv7-A/R ARM A3.5.3 \"Atomicity in the ARM architecture\"",
    };

    /// <summary>The name of an arm64 instruction that B2.2.5 lets change while it executes, or null.</summary>
    private static string? Arm64Swappable(uint w) => w switch
    {
        _ when (w & 0xFC00_0000) == 0x1400_0000 => "B",
        _ when (w & 0xFC00_0000) == 0x9400_0000 => "BL",
        0xD503_201F => "NOP",
        _ when (w & 0xFFFF_F0FF) == 0xD503_30DF => "ISB",
        _ when (w & 0xFFE0_001F) == 0xD420_0000 => "BRK",
        _ when (w & 0xFFE0_001F) == 0xD400_0001 => "SVC",
        _ when (w & 0xFFE0_001F) == 0xD400_0002 => "HVC",
        _ when (w & 0xFFE0_001F) == 0xD400_0003 => "SMC",
        _ => null,
    };

    /// <summary>The name of an A32 instruction that A3.5.4 lets change while it executes, or null.</summary>
    private static string? A32Swappable(uint w) => (w >> 28) == 0xF ? null : w switch
    {
        _ when (w & 0x0F00_0000) == 0x0A00_0000 => "B",
        _ when (w & 0x0F00_0000) == 0x0B00_0000 => "BL",
        _ when (w & 0x0FFF_FFFF) == 0x0320_F000 => "NOP",
        _ when (w & 0x0FF0_00F0) == 0x0120_0070 => "BKPT",
        _ when (w & 0x0F00_0000) == 0x0F00_0000 => "SVC",
        _ when (w & 0x0FF0_00F0) == 0x0140_0070 => "HVC",
        _ when (w & 0x0FFF_FFF0) == 0x0160_0070 => "SMC",
        _ => null,
    };

    /// <summary>The name of a 16-bit Thumb instruction that A3.5.4 lets change while it executes, or null.</summary>
    private static string? ThumbSwappable(ushort h) => h switch
    {
        _ when (h & 0xF800) == 0xE000 => "B",
        _ when (h & 0xF000) == 0xD000 && ((h >> 8) & 0xF) < 0xE => "B<cond>",
        0xBF00 => "NOP",
        _ when (h & 0xFF00) == 0xBE00 => "BKPT",
        _ when (h & 0xFF00) == 0xDF00 => "SVC",
        _ => null,
    };

    /// <summary>True for the first halfword of a 32-bit Thumb instruction (bits 15..11 are 11101, 11110 or 11111).</summary>
    private static bool IsThumbWide(ushort h) => (h >> 11) is 0b11101 or 0b11110 or 0b11111;

    /// <summary>A readable name for an instruction the rules do not cover, for the sentence.</summary>
    private static string Arm64Name(bool a64, uint w) => !a64 ? $"0x{w:X8}" : w switch
    {
        _ when (w & 0xFF00_0000) == 0x5800_0000 => $"LDR (literal) 0x{w:X8}",
        _ when (w & 0x9F00_0000) == 0x9000_0000 => $"ADRP 0x{w:X8}",
        _ when (w & 0xFF80_0000) == 0x9100_0000 => $"ADD 0x{w:X8}",
        _ when (w & 0xFFFF_FC1F) == 0xD61F_0000 => $"BR 0x{w:X8}",
        0 => "UDF #0 (0x00000000)",
        _ => $"0x{w:X8}",
    };
}
