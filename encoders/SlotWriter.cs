namespace HcrLab.Encoders;

/// <summary>
/// Turns plans into the ordered stores that write them (<see cref="SlotWrites"/>): the one way a slot is written, by the
/// runtime's jump table and by the lab. A re-point takes the first of these orders that <see cref="StoreRules"/> accepts
/// for callers that run meanwhile, and falls back to stores that need quiescence:
/// <list type="number">
/// <item><b>One store.</b> Every changed byte lies in one naturally aligned window the CPU stores single-copy atomically
/// (a literal, a displacement, a <c>B</c> swapped for a <c>B</c>): a caller sees the old bytes or the new ones.</item>
/// <item><b>Park the entry.</b> The entry's first bytes become <see cref="CpuFacts.SelfLoop"/> with one atomic store,
/// the other changed bytes are written (no caller gets past the loop to see them), and the entry's window is written
/// last with one atomic store: HotSpot's <c>jmp $</c> protocol on x86, the loop form of Linux's <c>text_poke_bp</c>.</item>
/// <item><b>Quiescent.</b> Naturally aligned pieces, for a write no thread may run through.</item>
/// </list>
/// </summary>
public static class SlotWriter
{
    /// <summary>The stores of a first write: naturally aligned pieces of the whole encoding, before any caller has the slot's address.</summary>
    public static SlotWrites FirstWrite(IJumpEncoder encoder, in JumpPlan plan)
    {
        var after = new byte[plan.Size];
        encoder.Encode(plan, after);
        return new SlotWrites(SlotWriteKind.FirstWrite, null, plan, new byte[plan.Size], after,
            Pieces(encoder.Facts, plan.Slot, after, 0, plan.Size), WhileCallersRun: false, "first write: no caller has the slot's address yet");
    }

    /// <summary>
    /// The stores that re-point a slot holding <paramref name="current"/> to <paramref name="next"/> (the same slot
    /// address): of the bytes <paramref name="next"/>'s <see cref="JumpPlan.Changed"/> names (all of them for a plan made
    /// by <see cref="IJumpEncoder.Plan(JumpForm, ulong, ulong, PatchMode)"/>), those that differ.
    /// </summary>
    public static SlotWrites Repoint(IJumpEncoder encoder, JumpPlan current, JumpPlan next)
    {
        if (current.Slot != next.Slot)
        {
            throw new ArgumentException($"a re-point keeps the slot: 0x{current.Slot:X} ≠ 0x{next.Slot:X}", nameof(next));
        }

        var facts = encoder.Facts;
        int length = Math.Max(current.Size, next.Size);
        var before = new byte[length];
        var after = new byte[length];
        encoder.Encode(current, before);
        before.AsSpan(0, current.Size).CopyTo(after);
        encoder.Encode(next, after);

        // The bytes the plan says change (all of them for a plan made by Plan) that differ; bytes past the current
        // encoding were not the slot's, so they count as changed when the new encoding uses them.
        var changed = new bool[length];
        int first = -1, last = -1;
        for (int i = 0; i < length; i++)
        {
            bool claimed = i >= next.Changed.Offset && i < next.Changed.End;
            if (claimed && (i >= current.Size || before[i] != after[i]))
            {
                changed[i] = true;
                first = first < 0 ? i : first;
                last = i;
            }
        }

        // What the stores leave: the new bytes where they change, the old ones elsewhere (an atomic window or the parked
        // entry rewrites unchanged bytes with the values they hold).
        for (int i = 0; i < length; i++)
        {
            after[i] = changed[i] ? after[i] : before[i];
        }

        var kind = current.Form == next.Form ? SlotWriteKind.Repoint : SlotWriteKind.FormChange;
        SlotWrites Make(IReadOnlyList<SlotStore> stores, bool whileCallersRun, string protocol) =>
            new(kind, current, next, before, after, stores, whileCallersRun, protocol);

        if (first < 0)
        {
            return Make([], true, "nothing changes");
        }

        var candidates = new List<SlotWrites>(2);
        if (AtomicWindow(facts, next.Slot, first, last + 1, length) is { } window)
        {
            candidates.Add(Make([Store(facts, next.Slot, after, window.Offset, window.Length)], true,
                $"one atomic {window.Length}-byte store of the changed bytes [+{first}, +{last + 1})"));
        }

        if (Park(facts, next.Slot, before, after, changed, length) is { } parked)
        {
            candidates.Add(Make(parked, true, "park callers in the entry's self-loop, write the rest, write the entry last"));
        }

        foreach (var candidate in candidates)
        {
            if (StoreRules.Check(facts, candidate).Count == 0)
            {
                return candidate;
            }
        }

        string why = candidates.Count == 0
            ? "no atomic store covers the change and the entry cannot be parked"
            : StoreRules.Check(facts, candidates[^1])[0];
        return Make(Pieces(facts, next.Slot, after, first, last + 1), false, $"needs quiescence: {why}");
    }

    /// <summary>Naturally aligned pieces of [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="image"/>, each as wide as its alignment allows.</summary>
    public static IReadOnlyList<SlotStore> Pieces(CpuFacts facts, ulong slot, ReadOnlySpan<byte> image, int from, int to)
    {
        var stores = new List<SlotStore>();
        int at = from;
        while (at < to)
        {
            int width = facts.MaxAtomicStore;
            while (width > 1 && ((slot + (ulong)at) % (ulong)width != 0 || at + width > to))
            {
                width /= 2;
            }

            stores.Add(Store(facts, slot, image, at, width));
            at += width;
        }

        return stores;
    }

    /// <summary>
    /// The narrowest naturally aligned window inside [0, <paramref name="length"/>) that covers [<paramref name="from"/>,
    /// <paramref name="to"/>) and is stored atomically; never narrower than an instruction unit, so that an ARM
    /// instruction is replaced whole, as the concurrent-modification rules assume.
    /// </summary>
    private static ByteRange? AtomicWindow(CpuFacts facts, ulong slot, int from, int to, int length)
    {
        for (int width = facts.InstructionAlignment; width <= facts.MaxAtomicStore; width *= 2)
        {
            ulong start = (slot + (ulong)from) & ~(ulong)(width - 1);
            long offset = (long)(start - slot);
            if (offset >= 0 && offset + width >= to && offset + width <= length)
            {
                return new ByteRange((int)offset, width);
            }
        }

        return null;
    }

    private static List<SlotStore>? Park(CpuFacts facts, ulong slot, byte[] before, byte[] after, bool[] changed, int length)
    {
        var loop = facts.SelfLoop;
        if (AtomicWindow(facts, slot, 0, loop.Length, length) is not { } entry)
        {
            return null;
        }

        var parked = (byte[])before.Clone();
        loop.CopyTo(parked, 0);
        var stores = new List<SlotStore> { Store(facts, slot, parked, entry.Offset, entry.Length) };
        for (int i = 0; i < length;)
        {
            if (!changed[i] || (i >= entry.Offset && i < entry.End))
            {
                i++;
                continue;
            }

            int end = i;
            while (end < length && changed[end] && !(end >= entry.Offset && end < entry.End))
            {
                end++;
            }

            stores.AddRange(Pieces(facts, slot, after, i, end));
            i = end;
        }

        stores.Add(Store(facts, slot, after, entry.Offset, entry.Length));
        return stores;
    }

    private static SlotStore Store(CpuFacts facts, ulong slot, ReadOnlySpan<byte> image, int offset, int width)
    {
        ulong address = slot + (ulong)offset;
        return new SlotStore(address, image.Slice(offset, width).ToArray(), SlotStore.IsSingleCopyAtomic(facts, address, width));
    }
}
