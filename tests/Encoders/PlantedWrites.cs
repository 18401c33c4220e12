using HcrLab.Encoders;

namespace HcrLab.Tests.Encoders;

/// <summary>
/// Deliberately unsafe slot writers for the tests: the same plans as the shipped writer, stored in an order or with
/// widths of the test's choosing, and claimed safe while callers run, so the rules and the lab have to catch them.
/// </summary>
public static class PlantedWrites
{
    /// <summary>Re-points <paramref name="current"/> to <paramref name="next"/> with stores of the new bytes at the given (offset, width) pieces, in order.</summary>
    public static SlotWrites Repoint(IJumpEncoder encoder, JumpPlan current, JumpPlan next, params (int Offset, int Width)[] pieces)
    {
        var honest = SlotWriter.Repoint(encoder, current, next);
        var after = honest.After.ToArray();
        var stores = pieces.Select(p =>
        {
            ulong address = next.Slot + (ulong)p.Offset;
            return new SlotStore(address, after.AsSpan(p.Offset, p.Width).ToArray(), SlotStore.IsSingleCopyAtomic(encoder.Facts, address, p.Width));
        }).ToList();
        return honest with { Stores = stores, WhileCallersRun = true, Protocol = "planted" };
    }

    /// <summary>(a) A 5-byte <c>jmp rel32</c> written as five single-byte stores, first byte first.</summary>
    public static SlotWrites Rel32ByteByByte(IJumpEncoder encoder, JumpPlan current, JumpPlan next) =>
        Repoint(encoder, current, next, (0, 1), (1, 1), (2, 1), (3, 1), (4, 1));

    /// <summary>(b) An arm64 <c>LDR x16, literal; BR x16</c> pair stored before its literal.</summary>
    public static SlotWrites Arm64LiteralLast(IJumpEncoder encoder, JumpPlan current, JumpPlan next) =>
        Repoint(encoder, current, next, (0, 8), (8, 8));

    /// <summary>(c) An arm64 <c>LDR</c>-literal sequence swapped for a <c>B</c> in place: one atomic store of the first word.</summary>
    public static SlotWrites Arm64LiteralToBranchInPlace(IJumpEncoder encoder, JumpPlan current, JumpPlan next) =>
        Repoint(encoder, current, next, (0, 4));
}
