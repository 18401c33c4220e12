namespace HcrLab.Runtime;

/// <summary>
/// One module's procs or globals, keyed by their names' UTF-8 bytes (<see cref="SymbolKey"/>). The symbols sit in a
/// dense array in registration order (hash, the next entry of the same bucket, symbol, address, short name), reached
/// through a power-of-two array of bucket heads twice as large, so most buckets hold one entry: a lookup reads a bucket
/// head and, mostly, only its own entry, and a module's init code, which registers and looks up its names roughly in
/// declaration order, reads the dense entries in order.
/// <para>
/// Writers hold the runtime's lock. <see cref="Find"/> may run on other threads at the same time without it and stays
/// safe: both arrays are published together (one <see cref="Storage"/> reference) and replaced, never resized in place;
/// an entry is complete before the bucket head that leads to it is stored; a removed entry keeps its link and its place
/// is not reused until the arrays are rebuilt, so a chain never loops; and a symbol is returned only when its own
/// (immutable) key equals the one asked for, so a reader sees either nothing or the right symbol, never another one.
/// Whether a symbol a writer is adding or removing counts yet is the runtime's version check (<see cref="HcrRuntime"/>).
/// </para>
/// </summary>
internal sealed class SymbolTable<T>
    where T : NamedSymbol
{
    private const int InitialSize = 8;

    private Storage _storage = new(InitialSize);
    private int _count;

    public int Count => _count;

    /// <summary>A snapshot of the symbols, in registration order.</summary>
    public IEnumerable<T> Values
    {
        get
        {
            var storage = _storage;
            var list = new List<T>(_count);
            for (int i = 0; i < storage.Used; i++)
            {
                if (storage.Entries[i].Symbol is { } symbol)
                {
                    list.Add(symbol);
                }
            }

            return list;
        }
    }

    /// <summary>The symbol whose key is <paramref name="key"/>, or null. Safe to call while a writer runs (see the class).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public T? Find(scoped in SymbolKey key)
    {
        var storage = Volatile.Read(ref _storage);
        var entries = storage.Entries;
        uint hash = key.Hash;
        int position = Volatile.Read(ref storage.Buckets[(int)hash & (storage.Buckets.Length - 1)]) - 1;
        for (int steps = 0; (uint)position < (uint)entries.Length && steps < entries.Length; steps++)
        {
            ref var entry = ref entries[position];
            if (entry.Hash == hash && Volatile.Read(ref entry.Symbol) is { } symbol && symbol.Key.AsSpan().SequenceEqual(key.Bytes))
            {
                return symbol;
            }

            position = Volatile.Read(ref entry.Next) - 1;
        }

        return null;
    }

    /// <summary>
    /// The address of the symbol whose key is <paramref name="key"/>, as the C ABI's lock-free lookups want it, or 0 when
    /// not found or not provable from here (a key that is not UTF-8): the entry holds the address, and a name of up to
    /// eight bytes inline, so such a lookup reads the bucket head and the entry and nothing else. Safe while a writer runs.
    /// </summary>
    public nint FindAddress(scoped in SymbolKey key)
    {
        var storage = Volatile.Read(ref _storage);
        var entries = storage.Entries;
        uint hash = key.Hash;
        ulong inline = Inline(key.Bytes);
        int position = Volatile.Read(ref storage.Buckets[(int)hash & (storage.Buckets.Length - 1)]) - 1;
        for (int steps = 0; (uint)position < (uint)entries.Length && steps < entries.Length; steps++)
        {
            ref var entry = ref entries[position];
            if (entry.Hash == hash)
            {
                if (inline != 0 && Volatile.Read(ref entry.Inline) == inline)
                {
                    return entry.Address;
                }

                if (entry.Inline == 0 && Volatile.Read(ref entry.Symbol) is { KeyIsUtf8: true } symbol && symbol.Key.AsSpan().SequenceEqual(key.Bytes))
                {
                    return entry.Address;
                }
            }

            position = Volatile.Read(ref entry.Next) - 1;
        }

        return 0;
    }

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public bool TryGetValue(string name, out T symbol)
    {
        Span<byte> buffer = stackalloc byte[SymbolKey.StackBytes];
        symbol = Find(SymbolKey.FromString(name, buffer))!;
        return symbol is not null;
    }

    /// <summary>Adds a symbol whose name is not in the table (the caller looked first), with its address (which never changes).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Add(T symbol, nint address)
    {
        if (_storage.Used == _storage.Entries.Length)
        {
            // Full: twice the size, or the same size without the holes removals left when at most half is live.
            int size = _storage.Entries.Length * (_count + 1 > _storage.Entries.Length / 2 ? 2 : 1);
            var rebuilt = new Storage(size);
            var old = _storage;
            for (int i = 0; i < old.Used; i++)
            {
                if (old.Entries[i].Symbol is { } live)
                {
                    rebuilt.Append(live, old.Entries[i].Address);
                }
            }

            Volatile.Write(ref _storage, rebuilt);
        }

        _storage.Append(symbol, address);
        _count++;
    }

    public bool Remove(string name) => TryGetValue(name, out var symbol) && Remove(symbol);

    /// <summary>
    /// Unlinks <paramref name="symbol"/> from its bucket's chain with one store; its entry becomes a hole that keeps its
    /// link, so a reader standing on it walks on.
    /// </summary>
    public bool Remove(T symbol)
    {
        var storage = _storage;
        var entries = storage.Entries;
        ref int link = ref storage.Buckets[(int)symbol.Hash & (storage.Buckets.Length - 1)];
        while (link != 0)
        {
            ref var entry = ref entries[link - 1];
            if (entry.Symbol == symbol)
            {
                Volatile.Write(ref link, entry.Next);
                Volatile.Write(ref entry.Symbol, null);
                _count--;
                return true;
            }

            link = ref entry.Next;
        }

        return false;
    }

    public void Clear()
    {
        Volatile.Write(ref _storage, new Storage(InitialSize));
        _count = 0;
    }

    /// <summary>
    /// Bucket heads (positions + 1, 0 for none) and the dense entries they lead to, twice as many heads as entries: with
    /// as many, a million names left about half the heads leading first to another name's entry, a scattered read of the
    /// dense array (hcrGetProc about 70 ns at a million names against 50 ns now, in A/B runs here).
    /// </summary>
    private sealed class Storage(int size)
    {
        public readonly int[] Buckets = new int[size * 2];
        public readonly Entry[] Entries = new Entry[size];
        public int Used;

        public void Append(T symbol, nint address)
        {
            int position = Used++;
            ref var entry = ref Entries[position];
            ref int bucket = ref Buckets[(int)symbol.Hash & (Buckets.Length - 1)];
            entry.Hash = symbol.Hash;
            entry.Next = bucket;
            entry.Address = address;

            // Inline only a UTF-8 name without NUL bytes: its zero-padded bytes then equal a caller's exactly when the
            // names are equal (a shorter or longer name differs in a byte that is not zero in one of them).
            entry.Inline = symbol.KeyIsUtf8 && !symbol.Key.AsSpan().Contains((byte)0) ? Inline(symbol.Key) : 0;
            Volatile.Write(ref entry.Symbol, symbol);
            Volatile.Write(ref bucket, position + 1);
        }
    }

    /// <summary>A name of 1 to 8 bytes, zero-padded into a word (without reading past it); 0 for any other length.</summary>
    private static ulong Inline(ReadOnlySpan<byte> bytes)
    {
        ref byte start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(bytes);
        int length = bytes.Length;
        return length switch
        {
            8 => System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref start),
            >= 4 and < 8 => System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref start)
                | ((ulong)System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref System.Runtime.CompilerServices.Unsafe.Add(ref start, length - 4)) << (8 * (length - 4))),
            >= 1 and < 4 => start
                | ((ulong)System.Runtime.CompilerServices.Unsafe.Add(ref start, length >> 1) << (8 * (length >> 1)))
                | ((ulong)System.Runtime.CompilerServices.Unsafe.Add(ref start, length - 1) << (8 * (length - 1))),
            _ => 0,
        };
    }

    /// <summary>
    /// 32 bytes: the hash, the next entry of the bucket (position + 1), the symbol, its address, and its name inline
    /// when short (see <see cref="Inline"/>; 0 otherwise).
    /// </summary>
    private struct Entry
    {
        public uint Hash;
        public int Next;
        public T? Symbol;
        public nint Address;
        public ulong Inline;
    }
}
