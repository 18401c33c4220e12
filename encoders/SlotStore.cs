namespace HcrLab.Encoders;

/// <summary>
/// One store of a slot write: <see cref="Width"/> bytes at <see cref="Address"/> (the address the slot executes at),
/// performed as one instruction. <see cref="Atomic"/> says the writer performs it as a single-copy-atomic store, which it
/// can only be when it is naturally aligned and no wider than <see cref="CpuFacts.MaxAtomicStore"/>
/// (<see cref="IsSingleCopyAtomic"/>): another core then sees all of its bytes or none of them.
/// </summary>
public readonly record struct SlotStore(ulong Address, ReadOnlyMemory<byte> Bytes, bool Atomic)
{
    /// <summary>Bytes the store writes.</summary>
    public int Width => Bytes.Length;

    /// <summary>The address one past the store's last byte.</summary>
    public ulong End => Address + (ulong)Width;

    /// <summary>True when a store of <paramref name="width"/> bytes at <paramref name="address"/> is single-copy atomic on the CPU of <paramref name="facts"/>.</summary>
    public static bool IsSingleCopyAtomic(CpuFacts facts, ulong address, int width) =>
        width is 1 or 2 or 4 or 8 && width <= facts.MaxAtomicStore && address % (ulong)width == 0;

    /// <summary>Why a store of <paramref name="width"/> bytes at <paramref name="address"/> is not single-copy atomic, or null when it is.</summary>
    public static string? WhyNotAtomic(CpuFacts facts, ulong address, int width)
    {
        if (IsSingleCopyAtomic(facts, address, width))
        {
            return null;
        }

        ulong line = (ulong)facts.CacheLineBytes;
        ulong nextLine = (address / line + 1) * line;
        if (address + (ulong)width > nextLine)
        {
            return $"it straddles the {line}-byte cache line boundary at 0x{nextLine:X}";
        }

        return width > facts.MaxAtomicStore || width is not (1 or 2 or 4 or 8)
            ? $"{facts.Isa.ShortName()} stores at most {facts.MaxAtomicStore} naturally aligned bytes single-copy atomically"
            : $"it is not {width}-byte aligned";
    }

    /// <summary>
    /// Performs the store at <paramref name="destination"/> (a writable alias of <see cref="Address"/>): an atomic store of
    /// its width with release semantics when <see cref="Atomic"/>, otherwise a byte copy.
    /// </summary>
    public unsafe void Perform(byte* destination)
    {
        var bytes = Bytes.Span;
        if (!Atomic)
        {
            bytes.CopyTo(new Span<byte>(destination, bytes.Length));
            return;
        }

        // The value's bytes are in memory order, so reading them in the machine's order and storing them back keeps them.
        switch (bytes.Length)
        {
            case 1:
                Volatile.Write(ref *destination, bytes[0]);
                break;
            case 2:
                Volatile.Write(ref *(ushort*)destination, System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(bytes));
                break;
            case 4:
                Volatile.Write(ref *(uint*)destination, System.Runtime.InteropServices.MemoryMarshal.Read<uint>(bytes));
                break;
            case 8 when Environment.Is64BitProcess:
                Volatile.Write(ref *(ulong*)destination, System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(bytes));
                break;
            case 8:
                // A 32-bit process has no plain 8-byte store; the interlocked exchange is one (cmpxchg8b, LDREXD/STREXD).
                Interlocked.Exchange(ref *(long*)destination, System.Runtime.InteropServices.MemoryMarshal.Read<long>(bytes));
                break;
            default:
                throw new InvalidOperationException($"{this} is marked atomic but no store is {bytes.Length} bytes wide");
        }
    }

    /// <summary>Applies the store to <paramref name="image"/>, a copy of memory starting at <paramref name="imageAddress"/>.</summary>
    public void ApplyTo(Span<byte> image, ulong imageAddress) => Bytes.Span.CopyTo(image[checked((int)(Address - imageAddress))..]);

    /// <summary>The store in one line: atomic or not, width, bytes as hex and address.</summary>
    public override string ToString() =>
        $"{(Atomic ? "atomic " : "")}{Width}-byte store of {Convert.ToHexStringLower(Bytes.Span)} at 0x{Address:X}";
}
