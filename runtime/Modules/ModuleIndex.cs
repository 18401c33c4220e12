namespace HcrLab.Runtime;

/// <summary>
/// The modules by their names' UTF-8 bytes, as the C ABI looks them up without the runtime's lock: an immutable,
/// open-addressed snapshot the runtime rebuilds at the end of every write window that may have added or removed a
/// module, plus the module found last (a module's init code and a host's loops ask for the same module call after call,
/// so most lookups compare its name once and hash nothing).
/// </summary>
internal sealed class ModuleIndex
{
    public static readonly ModuleIndex Empty = new([]);

    private readonly ModuleDescriptor?[] _slots;
    private ModuleDescriptor? _last;

    public ModuleIndex(IReadOnlyCollection<ModuleDescriptor> modules)
    {
        int size = 4;
        while (size < modules.Count * 2)
        {
            size *= 2;
        }

        _slots = new ModuleDescriptor?[size];
        // A module whose name holds a lone surrogate has a key that is not UTF-8 and that no C name can spell: left out,
        // so a C caller's bytes that match a key here are valid UTF-8 and need no check.
        foreach (var module in modules.Where(m => System.Text.Unicode.Utf8.IsValid(m.Key)))
        {
            int i = (int)module.Hash & (size - 1);
            while (_slots[i] is not null)
            {
                i = (i + 1) & (size - 1);
            }

            _slots[i] = module;
        }
    }

    /// <summary>
    /// The module a C string names, or null, without measuring the string first when it is the last module found: its
    /// bytes are compared one by one up to the key's end and the terminator, stopping at the first difference, so
    /// nothing past the caller's terminator is read. Any thread, no lock.
    /// </summary>
    public unsafe ModuleDescriptor? Find(byte* name)
    {
        if (_last is { } last)
        {
            var key = last.Key;
            int i = 0;
            while (i < key.Length && name[i] == key[i])
            {
                i++;
            }

            if (i == key.Length && name[i] == 0)
            {
                return last;
            }
        }

        return Find(System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name));
    }

    /// <summary>The module named by <paramref name="key"/>'s bytes, or null. Any thread, no lock.</summary>
    public ModuleDescriptor? Find(ReadOnlySpan<byte> key)
    {
        if (_last is { } last && last.Key.AsSpan().SequenceEqual(key))
        {
            return last;
        }

        uint hash = SymbolKey.HashOf(key);
        int mask = _slots.Length - 1;
        for (int i = (int)hash & mask; _slots[i] is { } module; i = (i + 1) & mask)
        {
            if (module.Hash == hash && module.Key.AsSpan().SequenceEqual(key))
            {
                _last = module;
                return module;
            }
        }

        return null;
    }
}
