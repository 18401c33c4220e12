namespace HcrLab.Runtime;

/// <summary>
/// One module as the runtime knows it: its procs and globals (names scoped to it), its imports, the library copy that
/// is loaded, its signature hash and its before/after handlers. Read-only for hosts; collections are snapshots.
/// </summary>
public sealed class ModuleDescriptor
{
    private readonly Lock _runtimeLock;

    internal ModuleDescriptor(string name, bool isRoot, Lock runtimeLock)
    {
        Name = name;
        IsRoot = isRoot;
        _runtimeLock = runtimeLock;
        Key = SymbolKey.Encode(name);
        Hash = SymbolKey.HashOf(Key);
    }

    /// <summary>The key the module is known by: the string imports list it under and its code registers symbols under.</summary>
    public string Name { get; }

    /// <summary>True for the host's own module: never loaded from a library, never reloaded or unloaded.</summary>
    public bool IsRoot { get; internal set; }

    /// <summary>The original library file, or null for a module that was only added (<c>hcrAddModule</c>) or is the root.</summary>
    public string? Path => Library?.OriginalPath;

    /// <summary>The runtime's copy that is loaded now, or null.</summary>
    public string? LoadedCopyPath => Library?.CopyPath;

    /// <summary>True while a library copy of the module is loaded.</summary>
    public bool IsLoaded => Library is not null;

    /// <summary>The modules this one imports: what its library's <c>HcrGetImportedModules</c> listed at the latest load, or for the root the modules the host started with.</summary>
    public IReadOnlyList<string> Imports { get; internal set; } = [];

    /// <summary>What <c>HcrGetSigHash</c> returned at the latest load; empty for a module not loaded from a library.</summary>
    public string SignatureHash => Library?.SignatureHash ?? "";

    /// <summary>The runtime generation at which the loaded code was loaded; -1 for a module never loaded.</summary>
    public long Generation { get; internal set; } = -1;

    /// <summary>How many procs the module has registered now (a snapshot).</summary>
    public int ProcCount => Snapshot(() => ProcTable.Count);

    /// <summary>How many globals the module has registered now (a snapshot).</summary>
    public int GlobalCount => Snapshot(() => GlobalTable.Count);

    /// <summary>A snapshot of the module's procs, in name order.</summary>
    public IReadOnlyList<ProcSymbol> Procs => Snapshot<IReadOnlyList<ProcSymbol>>(() => [.. ProcTable.Values.OrderBy(p => p.Name, StringComparer.Ordinal)]);

    /// <summary>A snapshot of the module's globals, in name order.</summary>
    public IReadOnlyList<GlobalSymbol> Globals => Snapshot<IReadOnlyList<GlobalSymbol>>(() => [.. GlobalTable.Values.OrderBy(g => g.Name, StringComparer.Ordinal)]);

    /// <summary>How many before and after handlers the loaded code registered.</summary>
    public (int Before, int After) HandlerCount => Snapshot(() => (Handlers.Count(h => h.IsBefore), Handlers.Count(h => !h.IsBefore)));

    internal ModuleLibrary? Library { get; set; }

    /// <summary>The module's procs by their names' UTF-8 bytes; C ABI lookups read it without the runtime's lock.</summary>
    internal SymbolTable<ProcSymbol> ProcTable { get; } = new();

    internal SymbolTable<GlobalSymbol> GlobalTable { get; } = new();

    /// <summary>The name's key bytes (<see cref="SymbolKey"/>) and their hash, for the runtime's module index.</summary>
    internal byte[] Key { get; }

    internal uint Hash { get; }

    internal List<EventHandlerEntry> Handlers { get; set; } = [];

    // The tables change under the runtime's lock during registration and reload; reads take it too.
    private T Snapshot<T>(Func<T> read)
    {
        lock (_runtimeLock)
        {
            return read();
        }
    }

    /// <summary>The name, library and generation when loaded, and the counts of procs and globals, in one line.</summary>
    public override string ToString() =>
        $"module {Name}{(IsLoaded ? $" ({Path}, generation {Generation})" : "")}: {ProcCount} procs, {GlobalCount} globals";
}

/// <summary>
/// A before- or after-reload handler: a C function pointer (with an environment, a Nim closure's) from a module, or a
/// .NET delegate from the host.
/// </summary>
internal sealed unsafe record EventHandlerEntry(bool IsBefore, nint Function, nint Environment, Action? Managed)
{
    public void Invoke()
    {
        if (Managed is not null)
        {
            Managed();
        }
        else if (Environment != 0)
        {
            // Nim's closure call: the environment is the last (here the only) argument.
            ((delegate* unmanaged<nint, void>)Function)(Environment);
        }
        else
        {
            ((delegate* unmanaged<void>)Function)();
        }
    }
}
