namespace HcrLab.Runtime;

/// <summary>A registered global: runtime-owned, zero-filled native memory that keeps its address and value across reloads.</summary>
public sealed class GlobalSymbol : NamedSymbol
{
    internal GlobalSymbol(string module, byte[] key, uint hash, string? name, nint address, ulong size, nint gcMarker, long generation)
        : base(module, key, hash, name, generation)
    {
        Address = address;
        Size = size;
        GcMarker = gcMarker;
    }

    /// <summary>The global's memory: the address every module reads and writes it at, kept across reloads.</summary>
    public nint Address { get; }

    /// <summary>The size it was first registered with; a registration with another size is refused.</summary>
    public ulong Size { get; }

    /// <summary>The <c>void (*)(void)</c> that <c>hcrMarkGlobals</c> calls for it, or 0.</summary>
    public nint GcMarker { get; internal set; }

    /// <summary>
    /// The loaded libraries whose init code looked this global up (see <see cref="DroppedGlobals"/>); null until one
    /// does. Under the runtime's lock.
    /// </summary>
    internal HashSet<ModuleLibrary>? Holders { get; set; }

    /// <summary>The global's module, name, size, address and generation, in one line.</summary>
    public override string ToString() => $"global {Module}.{Name} ({Size} bytes at 0x{Address:x}, generation {Generation})";
}
