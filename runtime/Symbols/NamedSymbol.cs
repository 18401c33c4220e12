namespace HcrLab.Runtime;

/// <summary>
/// What procs and globals share: the module and name they are registered under and the generation of their latest
/// registration. The runtime keys its tables by the name's UTF-8 bytes; the name becomes a string when first asked for.
/// </summary>
public abstract class NamedSymbol
{
    private string? _name;

    private protected NamedSymbol(string module, byte[] key, uint hash, string? name, long generation)
    {
        Module = module;
        Key = key;
        KeyIsUtf8 = System.Text.Unicode.Utf8.IsValid(key);
        Hash = hash;
        _name = name;
        Generation = generation;
    }

    /// <summary>The module the symbol is registered under.</summary>
    public string Module { get; }

    /// <summary>The symbol's name within its module.</summary>
    public string Name => _name ??= SymbolKey.ToText(Key);

    /// <summary>The generation of the latest registration; older than the runtime's after a reload means "removed".</summary>
    public long Generation { get; internal set; }

    /// <summary>The name's key bytes (<see cref="SymbolKey"/>); never changes.</summary>
    internal byte[] Key { get; }

    internal uint Hash { get; }

    /// <summary>
    /// False only for a .NET name holding a lone surrogate. A C caller's bytes that equal a UTF-8 key are valid UTF-8, so
    /// the C ABI's fast paths compare the caller's bytes without checking them first and trust a match only here.
    /// </summary>
    internal bool KeyIsUtf8 { get; }
}
