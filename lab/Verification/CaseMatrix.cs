using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>
/// The fixed matrix of cases for one instruction set: every form (forced, and the encoder's own choice) × distance
/// (near, the farthest reachable target each way, one step past each, far beyond 4 GiB, wrap-around) × target state
/// × slot alignment × patch mode, plus the bad inputs. Boundaries are computed from each form's stated reach; what
/// the encoder must do at each is decided by <see cref="ReachOracle"/>, not by the encoder.
/// </summary>
public static class CaseMatrix
{
    private const ulong Page = 0x1000;

    /// <summary>Slots of 32-bit CPUs sit here, so both directions of every reach stay inside the address space.</summary>
    private const ulong Base32 = 0x4000_0000;

    /// <summary>Slots of 64-bit CPUs sit above 4 GiB, so a target 4 GiB below is still a valid address.</summary>
    private const ulong Base64 = 0x2_0000_0000;

    public static IReadOnlyList<JumpCase> For(InstructionSet isa, Func<ulong, int, bool> isReserved)
    {
        var encoder = JumpEncoders.For(isa);
        var facts = encoder.Facts;
        var cases = new List<JumpCase>();
        ulong baseSlot = facts.AddressBits == 64 ? Base64 : Base32;

        foreach (var form in encoder.Forms.Select(f => (JumpForm?)f).Append(null))
        {
            foreach (var mode in new[] { PatchMode.Code, PatchMode.Data })
            {
                foreach (int offset in SlotOffsets(facts))
                {
                    ulong slot = baseSlot + (ulong)offset;
                    foreach (var state in States(facts))
                    {
                        foreach (var (distance, target) in Targets(encoder, form, slot, state))
                        {
                            cases.Add(new JumpCase(isa, form?.Name, mode, slot, target, SecondTarget(encoder, slot, target), distance));
                        }
                    }
                }

                // Wrap-around: on 32-bit CPUs address arithmetic is modulo 2^32, so a slot near 0 reaches the top and back.
                if (facts.AddressBits == 32)
                {
                    foreach (var (distance, slot, target) in WrapCases(encoder, form))
                    {
                        cases.Add(new JumpCase(isa, form?.Name, mode, slot, target, SecondTarget(encoder, slot, target), distance));
                    }
                }
            }
        }

        cases.AddRange(BadInputs(encoder, baseSlot));
        return [.. cases.Where(c => Fits(c, isReserved)).Distinct()];
    }

    /// <summary>The second target of a case: near the slot when the first is far, far when the first is near, so a code-mode re-point changes form both ways.</summary>
    public static ulong SecondTarget(IJumpEncoder encoder, ulong slot, ulong target)
    {
        var facts = encoder.Facts;
        ulong mask = facts.MaxAddress;
        ulong distance = (target - slot) & mask;
        bool firstIsNear = distance < 0x1000 || distance > mask - 0x1000;
        ulong second = firstIsNear
            ? (facts.AddressBits == 64 ? 0x7_0000_0000UL + (slot & 0xFF0) : (slot + 0x8000_0000UL) & mask)
            : (slot + 0x80) & mask;
        second &= ~(ulong)(facts.TargetAlignment - 1);

        // On ARM the second target is in the other state, so every re-point also exercises interworking.
        return facts.HasThumbBit && (target & 1) == 0 ? second | 1 : second;
    }

    /// <summary>
    /// Offsets of the slot from the base: every alignment the instruction set allows, and a slot whose encoding
    /// straddles a page boundary (a re-point then changes code on two pages, which an emulator or a CPU caches apart).
    /// </summary>
    private static IEnumerable<int> SlotOffsets(CpuFacts facts) => facts.Isa switch
    {
        // x86: every offset modulo 8, so the data-mode padding before the literal takes every length.
        InstructionSet.I386 or InstructionSet.Amd64 => [.. Enumerable.Range(0, 8), (int)Page - 3],
        InstructionSet.Thumb => [0, 2, (int)Page - 2],
        InstructionSet.Arm64 => [0, 4, (int)Page - 4],
        _ => [0, (int)Page - 4],
    };

    private static IEnumerable<TargetStates> States(CpuFacts facts) =>
        facts.HasThumbBit ? [TargetStates.A32, TargetStates.Thumb] : [TargetStates.Native];

    private static IEnumerable<(string Distance, ulong Target)> Targets(IJumpEncoder encoder, JumpForm? form, ulong slot, TargetStates state)
    {
        var facts = encoder.Facts;
        ulong mask = facts.MaxAddress;
        ulong Fix(ulong address) => WithState(facts, address & mask, state);

        ulong near = slot + 0x40;
        yield return ("near+", Fix(near));
        yield return ("near-", Fix(slot - 0x40));

        if (form is null || !form.IsRelative)
        {
            foreach (var (distance, target) in FarTargets(facts))
            {
                yield return (distance, WithState(facts, target, state));
            }
        }

        // A forced relative form is probed at its own limits; the encoder's own choice at every relative form's limits,
        // where the shortest correct form changes.
        var relatives = form is null ? encoder.Forms.Where(f => f.IsRelative) : form.IsRelative ? [form] : [];
        foreach (var relative in relatives)
        {
            foreach (var (distance, target) in Boundaries(relative, slot))
            {
                yield return (form is null ? $"{relative.Name} {distance}" : distance, Fix(target));
            }
        }
    }

    /// <summary>The farthest reachable target each way and the first unreachable one past each, from the form's stated reach.</summary>
    private static IEnumerable<(string Distance, ulong Target)> Boundaries(JumpForm form, ulong slot)
    {
        ulong step = (ulong)form.Granularity;
        if (form.Kind == JumpKind.PageRelative)
        {
            ulong page = slot & ~(Page - 1);
            ulong lastPage = page + (ulong)form.MaxDisplacement;
            ulong firstPage = page + (ulong)form.MinDisplacement;
            yield return ("farthest+", lastPage + Page - 4);
            yield return ("past+", lastPage + Page);
            yield return ("farthest-", firstPage);
            yield return ("past-", firstPage - 4);
            yield break;
        }

        ulong origin = slot + (ulong)form.PcBias;
        yield return ("farthest+", origin + (ulong)form.MaxDisplacement);
        yield return ("past+", origin + (ulong)form.MaxDisplacement + step);
        yield return ("farthest-", origin + (ulong)form.MinDisplacement);
        yield return ("past-", origin + (ulong)form.MinDisplacement - step);
    }

    private static IEnumerable<(string Distance, ulong Target)> FarTargets(CpuFacts facts) => facts.Isa switch
    {
        InstructionSet.Amd64 => [("far", 0x7_0000_0000), ("far", 0x7FFF_0000_0000), ("below", 0x1000_0000)],
        InstructionSet.Arm64 => [("far", 0x7_0000_0000), ("far", 0xFFFF_0000_0000), ("below", 0x1000_0000)],
        _ => [("far", 0xFFFF_F000), ("far", 0x0000_2000), ("beyond", 0x1_0000_0000)],
    };

    private static IEnumerable<(string Distance, ulong Slot, ulong Target)> WrapCases(IJumpEncoder encoder, JumpForm? form)
    {
        var facts = encoder.Facts;
        const ulong low = 0x40;
        const ulong high = 0xFFFF_E000;
        var relative = form is { Kind: JumpKind.Relative } ? form : encoder.Forms.First(f => f.IsRelative);
        ulong bias = (ulong)relative.PcBias;
        foreach (var state in States(facts))
        {
            // A short hop across 0 in each direction.
            yield return ("wrap-", low, WithState(facts, (low + bias - 0x1040) & 0xFFFF_FFFF, state));
            yield return ("wrap+", high, WithState(facts, (high + bias + 0x2040) & 0xFFFF_FFFF, state));

            // The farthest backward target of the form, reached by wrapping below 0, and one step past it.
            ulong farthest = (low + bias + (ulong)relative.MinDisplacement) & 0xFFFF_FFFF;
            yield return ("wrap-farthest-", low, WithState(facts, farthest, state));
            yield return ("wrap-past-", low, WithState(facts, (farthest - (ulong)relative.Granularity) & 0xFFFF_FFFF, state));
        }
    }

    private static IEnumerable<JumpCase> BadInputs(IJumpEncoder encoder, ulong slot)
    {
        var facts = encoder.Facts;
        var isa = facts.Isa;
        foreach (var mode in new[] { PatchMode.Code, PatchMode.Data })
        {
            JumpCase Bad(string what, ulong s, ulong t) => new(isa, null, mode, s, t, t, what);

            if (facts.InstructionAlignment > 1)
            {
                yield return Bad("misaligned slot", slot + 1, slot + 0x40);
                if (facts.InstructionAlignment > 2)
                {
                    yield return Bad("misaligned slot", slot + 2, slot + 0x40);
                }
            }

            if (facts.TargetAlignment > 1)
            {
                yield return Bad("misaligned target", slot, slot + 0x42);
            }

            if (facts.Isa == InstructionSet.Arm64)
            {
                yield return Bad("misaligned target", slot, slot + 0x41);
            }

            if (facts.AddressBits == 32)
            {
                yield return Bad("target beyond 4 GiB", slot, 0x1_0000_0000);
                yield return Bad("target beyond 4 GiB", slot, 0xFFFF_FFFF_0000_0000);
                yield return Bad("slot beyond 4 GiB", 0x1_0000_0000, slot);
                yield return Bad("slot at the top", 0xFFFF_FFFC, slot);
                yield return Bad("slot at the top", 0xFFFF_FFF8, slot);
            }
            else
            {
                yield return Bad("slot at the top", 0xFFFF_FFFF_FFFF_FFF8, 0x7_0000_0000);
            }
        }
    }

    /// <summary>
    /// <paramref name="address"/> made a valid target in <paramref name="state"/>: on ARM a Thumb target gets bit 0 and
    /// an A32 target is word-aligned; elsewhere the target is aligned as the CPU requires (the state is ignored).
    /// </summary>
    internal static ulong WithState(CpuFacts facts, ulong address, TargetStates state) =>
        !facts.HasThumbBit ? address & ~(ulong)(facts.TargetAlignment - 1)
        : state == TargetStates.Thumb ? address | 1 : address & ~3UL;

    /// <summary>
    /// A case runs only where its slot, its targets' stubs and the emulator's own pages do not overlap, and nothing
    /// wraps past the top of the address space (cases the oracle expects to be refused are always kept).
    /// </summary>
    public static bool Fits(JumpCase c, Func<ulong, int, bool> isReserved)
    {
        if (c.Expected.Refusal is not null)
        {
            return true;
        }

        const int slotBytes = 32;
        const int stubBytes = 16;
        ulong first = c.Target & ~1UL;
        ulong second = c.SecondTarget & ~1UL;
        bool Overlaps(ulong a, int aLength, ulong b, int bLength) => a < b + (ulong)bLength && b < a + (ulong)aLength;
        bool Wraps(ulong a, int length) => a + (ulong)length < a || (JumpEncoders.For(c.Isa).Facts.AddressBits == 32 && a + (ulong)length > 0x1_0000_0000);

        return !Wraps(c.Slot, slotBytes) && !Wraps(first, stubBytes) && !Wraps(second, stubBytes)
            && !isReserved(c.Slot, slotBytes) && !isReserved(first, stubBytes) && !isReserved(second, stubBytes)
            && !Overlaps(c.Slot, slotBytes, first, stubBytes) && !Overlaps(c.Slot, slotBytes, second, stubBytes)
            && !Overlaps(first, stubBytes, second, stubBytes);
    }
}
