namespace HcrLab.Runtime;

/// <summary>
/// One module's procs or globals, keyed by their names' UTF-8 bytes (<see cref="SymbolKey"/>). The symbols sit in a
/// dense array in registration order (hash and symbol), found through an open-addressed index of 4-byte positions with
/// linear probing, at most half full. A module's init code registers and looks up its names roughly in the order it
/// declares them, so the dense entries are read in order and the only scattered read is the small index.
/// <para>
/// Writers hold the runtime's lock. <see cref="Find"/> may run on other threads at the same time without it and stays
/// safe: both arrays are published together (one <see cref="Storage"/> reference) and replaced, never resized in place;
/// an entry is written before the index position that leads to it; and a symbol is returned only when its own
/// (immutable) key equals the one asked for, so a reader sees either nothing or the right symbol, never another one.
/// Whether a symbol a writer is adding or removing counts yet is the runtime's version check (<see cref="HcrRuntime"/>).
/// </para>
/// </summary>
internal sealed class SymbolTable<T>
    where T : NamedSymbol
{
    private const int InitialIndexSize = 16;

    private Storage _storage = new(InitialIndexSize);
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
    public T? Find(scoped in SymbolKey key)
    {
        var storage = Volatile.Read(ref _storage);
        var index = storage.Index;
        var entries = storage.Entries;
        int mask = index.Length - 1;
        uint hash = key.Hash;
        for (int i = (int)hash & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++)
        {
            int position = Volatile.Read(ref index[i]) - 1;
            if (position < 0)
            {
                return null;
            }

            if ((uint)position < (uint)entries.Length && entries[position].Hash == hash
                && Volatile.Read(ref entries[position].Symbol) is { } symbol && symbol.Key.AsSpan().SequenceEqual(key.Bytes))
            {
                return symbol;
            }
        }

        return null;
    }

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public bool TryGetValue(string name, out T symbol)
    {
        Span<byte> buffer = stackalloc byte[SymbolKey.StackBytes];
        symbol = Find(SymbolKey.FromString(name, buffer))!;
        return symbol is not null;
    }

    /// <summary>Adds a symbol whose name is not in the table (the caller looked first).</summary>
    public void Add(T symbol)
    {
        if (_storage.Used == _storage.Entries.Length)
        {
            // Full: twice the size, or the same size without the holes removals left when at most half is live.
            int size = _storage.Index.Length * (_count + 1 > _storage.Entries.Length / 2 ? 2 : 1);
            var rebuilt = new Storage(size);
            foreach (var live in Values)
            {
                rebuilt.Append(live);
            }

            Volatile.Write(ref _storage, rebuilt);
        }

        _storage.Append(symbol);
        _count++;
    }

    public bool Remove(string name) => TryGetValue(name, out var symbol) && Remove(symbol);

    /// <summary>
    /// Removes <paramref name="symbol"/>: its entry becomes a hole, and later positions of its probe run move back so no
    /// lookup needs a tombstone. A reader walking the run at that moment may miss a symbol that stays; the runtime removes
    /// only inside a write window, whose version change sends such a reader to the lock.
    /// </summary>
    public bool Remove(T symbol)
    {
        var storage = _storage;
        var index = storage.Index;
        int mask = index.Length - 1;
        int i = (int)symbol.Hash & mask;
        while (true)
        {
            int position = index[i] - 1;
            if (position < 0)
            {
                return false;
            }

            if (storage.Entries[position].Symbol == symbol)
            {
                Volatile.Write(ref storage.Entries[position].Symbol, null);
                break;
            }

            i = (i + 1) & mask;
        }

        for (int j = (i + 1) & mask; index[j] != 0; j = (j + 1) & mask)
        {
            // The position at j may move back to the hole at i unless its home lies cyclically within (i, j].
            int home = (int)storage.Entries[index[j] - 1].Hash & mask;
            bool homeAfterHole = i <= j ? home > i && home <= j : home > i || home <= j;
            if (!homeAfterHole)
            {
                Volatile.Write(ref index[i], index[j]);
                i = j;
            }
        }

        Volatile.Write(ref index[i], 0);
        _count--;
        return true;
    }

    public void Clear()
    {
        Volatile.Write(ref _storage, new Storage(InitialIndexSize));
        _count = 0;
    }

    /// <summary>The index (positions + 1, 0 for empty) and the dense entries it leads to, half the index's size.</summary>
    private sealed class Storage(int indexSize)
    {
        public readonly int[] Index = new int[indexSize];
        public readonly Entry[] Entries = new Entry[indexSize / 2];
        public int Used;

        public void Append(T symbol)
        {
            int position = Used++;
            Entries[position].Hash = symbol.Hash;
            Volatile.Write(ref Entries[position].Symbol, symbol);
            int mask = Index.Length - 1;
            int i = (int)symbol.Hash & mask;
            while (Index[i] != 0)
            {
                i = (i + 1) & mask;
            }

            Volatile.Write(ref Index[i], position + 1);
        }
    }

    private struct Entry
    {
        public uint Hash;
        public T? Symbol;
    }
}
