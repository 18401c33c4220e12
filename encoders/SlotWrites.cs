namespace HcrLab.Encoders;

/// <summary>What a slot write is.</summary>
public enum SlotWriteKind
{
    /// <summary>A slot laid out for the first time: no caller has its address yet.</summary>
    FirstWrite,

    /// <summary>A slot re-pointed in the same form (a displacement or a literal changes).</summary>
    Repoint,

    /// <summary>A slot re-pointed into another form (e.g. a direct branch whose new target is out of reach becoming an indirect jump).</summary>
    FormChange,
}

/// <summary>
/// A slot write as data: the ordered stores that turn the slot's bytes from <see cref="Before"/> into <see cref="After"/>,
/// and whether that order is safe while other threads call through the slot. The runtime's jump table and the lab perform
/// exactly these stores (<see cref="SlotWriter"/> makes them), so what the lab proves of every intermediate state is what
/// the runtime does.
/// </summary>
/// <param name="Kind">First write, re-point or change of form.</param>
/// <param name="Previous">What the slot held before, or null for a first write.</param>
/// <param name="Plan">What the slot holds after.</param>
/// <param name="Before">
/// The slot's bytes before, from <see cref="JumpPlan.Slot"/>, as long as <see cref="After"/>: the previous encoding, then
/// zeros where the new encoding is longer (those bytes were not the slot's: every store covers them).
/// </param>
/// <param name="After">The slot's bytes after: the new encoding, then the previous one's bytes where it was longer.</param>
/// <param name="Stores">The stores, in order.</param>
/// <param name="WhileCallersRun">
/// True when another thread may call through the slot during the stores and still reach the old target or the new one
/// (or wait in <see cref="CpuFacts.SelfLoop"/> until the entry is written): every store that a caller can observe is
/// single-copy atomic and the order obeys the CPU's rules (<see cref="StoreRules"/>). False when the write needs every
/// thread to be out of the slot (the quiescence the runtime tracks), or no caller can have the slot's address yet.
/// </param>
/// <param name="Protocol">In words: how the order keeps callers safe, or why it needs quiescence.</param>
public sealed record SlotWrites(
    SlotWriteKind Kind,
    JumpPlan? Previous,
    JumpPlan Plan,
    ReadOnlyMemory<byte> Before,
    ReadOnlyMemory<byte> After,
    IReadOnlyList<SlotStore> Stores,
    bool WhileCallersRun,
    string Protocol)
{
    /// <summary>The slot's address (the plan's).</summary>
    public ulong Slot => Plan.Slot;

    /// <summary>
    /// True when some store writes bytes of an instruction, old or new (the self-loop of a parked entry included), so
    /// translated or prefetched code of the stored ranges must be dropped; a literal-only change in place needs nothing.
    /// </summary>
    public bool ChangesInstructions => Stores.Any(s => Overlaps(s, Plan.Instructions) || (Previous is { } p && Overlaps(s, p.Instructions)));

    /// <summary>Applies every store, in order, to <paramref name="image"/>, a copy of memory starting at <paramref name="imageAddress"/>.</summary>
    public void ApplyTo(Span<byte> image, ulong imageAddress)
    {
        foreach (var store in Stores)
        {
            store.ApplyTo(image, imageAddress);
        }
    }

    /// <summary>Performs every store, in order, through <paramref name="writableSlot"/>, a writable alias of <see cref="Slot"/>.</summary>
    public unsafe void Perform(byte* writableSlot)
    {
        foreach (var store in Stores)
        {
            store.Perform(writableSlot + (store.Address - Slot));
        }
    }

    private bool Overlaps(SlotStore store, ByteRange range) =>
        store.Address < Slot + (ulong)range.End && Slot + (ulong)range.Offset < store.End;

    /// <summary>The kind of write, the form, the number of stores and whether callers may run meanwhile, in one line.</summary>
    public override string ToString() =>
        $"{Kind} to {Plan.Form.Name}: {Stores.Count} store(s), {(WhileCallersRun ? "safe while callers run" : "needs quiescence")} ({Protocol})";
}
