namespace HcrLab.Encoders;

/// <summary>
/// Absolute addresses from <see cref="First"/> to <see cref="Last"/>, both included. Inclusive, because a range that
/// ends at the last byte of the address space has no end address one past it: written half-open, a slot at
/// 0xfffffffffffffffc would read [0xfffffffffffffffc, 0x0), and a loop over it flushes nothing.
/// </summary>
public readonly record struct AddressRange(ulong First, ulong Last)
{
    /// <summary>How many bytes: never 0, since a range holds at least <see cref="First"/> (a whole 64-bit space does not fit; no plan spans it).</summary>
    public ulong Length => Last - First + 1;

    /// <summary>The range as <c>[0xfirst, 0xlast]</c>, both ends included.</summary>
    public override string ToString() => $"[0x{First:x}, 0x{Last:x}]";
}
