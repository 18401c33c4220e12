using System.Numerics;
using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>What the intermediate-state check found in one case or one report row.</summary>
/// <param name="Repoints">Re-points whose stores claim to be safe while callers run, and were checked state by state.</param>
/// <param name="Quiesced">Re-points whose stores need every thread out of the slot: no caller runs meanwhile, so no state is run.</param>
/// <param name="States">
/// States a caller could see during the checked re-points: every prefix of the stores (none landed through all landed)
/// and, for a store that is not single-copy atomic, every mix of its old and new bytes.
/// </param>
/// <param name="Failed">
/// Checked re-points that failed: in some state the caller reached neither target nor the self-loop, or a store breaks
/// the CPU's rules (<see cref="StoreRules"/>). A case stops at its first failure, so this is at most one per re-point.
/// </param>
public readonly record struct StateCounts(int Repoints, int Quiesced, int States, int Failed)
{
    public static StateCounts operator +(StateCounts a, StateCounts b) =>
        new(a.Repoints + b.Repoints, a.Quiesced + b.Quiesced, a.States + b.States, a.Failed + b.Failed);
}

/// <summary>One state a caller can see while a slot write is under way: the slot's bytes and which stores had landed.</summary>
/// <param name="Landed">Stores that had landed whole.</param>
/// <param name="Partial">The store under way whose bytes are mixed (one that is not single-copy atomic), or -1.</param>
/// <param name="NewBytes">Of that store, the offsets within it whose new bytes had landed.</param>
/// <param name="Image">The slot's bytes in this state, from the slot address.</param>
public sealed record SlotState(int Landed, int Partial, IReadOnlyList<int> NewBytes, byte[] Image)
{
    /// <summary>Which stores had landed, in words, for a failure sentence.</summary>
    public string Describe(SlotWrites writes)
    {
        int count = writes.Stores.Count;
        string landed = Landed == 0 ? "no store of " + count : Landed == 1 ? $"store 1 of {count}" : $"stores 1–{Landed} of {count}";
        landed += Landed > 0 ? $" landed (last: {writes.Stores[Landed - 1]})" : " landed";
        return Partial < 0
            ? landed
            : $"{landed} and bytes {string.Join(", ", NewBytes.Select(b => $"+{b}"))} of store {Partial + 1} ({writes.Stores[Partial]}, not single-copy atomic)";
    }
}

/// <summary>Enumerates the states a caller can see while the stores of a slot write land, one after another.</summary>
public static class IntermediateStates
{
    /// <summary>A store with more changed bytes than this is not mixed byte by byte (2^n states); only planted writers come near.</summary>
    public const int MaxMixedBytes = 12;

    /// <summary>
    /// Every state from <paramref name="before"/> (the slot's bytes in memory, as long as <see cref="SlotWrites.After"/>):
    /// each prefix of the stores in order, and before each store that <paramref name="facts"/> says is not single-copy
    /// atomic (whatever the writer claims), every strict mix of its old and new bytes.
    /// </summary>
    public static IEnumerable<SlotState> Of(CpuFacts facts, SlotWrites writes, byte[] before)
    {
        var image = (byte[])before.Clone();
        yield return new SlotState(0, -1, [], (byte[])image.Clone());
        for (int k = 0; k < writes.Stores.Count; k++)
        {
            var store = writes.Stores[k];
            int offset = (int)(store.Address - writes.Slot);
            if (!SlotStore.IsSingleCopyAtomic(facts, store.Address, store.Width))
            {
                var bytes = store.Bytes.ToArray();
                int[] differing = [.. Enumerable.Range(0, store.Width).Where(i => image[offset + i] != bytes[i]).Take(MaxMixedBytes)];
                for (uint mask = 1; mask < (1u << differing.Length) - 1; mask++)
                {
                    var mixed = (byte[])image.Clone();
                    var landed = new List<int>(BitOperations.PopCount(mask));
                    for (int b = 0; b < differing.Length; b++)
                    {
                        if ((mask & (1u << b)) != 0)
                        {
                            mixed[offset + differing[b]] = bytes[differing[b]];
                            landed.Add(differing[b]);
                        }
                    }

                    yield return new SlotState(k, k, landed, mixed);
                }
            }

            store.ApplyTo(image, writes.Slot);
            yield return new SlotState(k + 1, -1, [], (byte[])image.Clone());
        }
    }
}
