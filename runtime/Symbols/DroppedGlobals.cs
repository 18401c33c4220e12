namespace HcrLab.Runtime;

/// <summary>
/// Globals a reload dropped while another loaded module still holds their address, kept allocated until no such
/// module is left. A module "holds" a global from the moment its init code (a start's or reload's <c>DatInit000</c>,
/// <c>Init000</c>, a handler) looked it up: it stores the address (hcr.h's imports, Nim's <c>DatInit000</c>), and an
/// unchanged module's code keeps using it after the reload that drops the global. Its hold ends when that library is
/// replaced (reloaded) or unloaded, or when its init code looks the name up again and gets another answer (hcr.h's and
/// Nim's re-resolution at every reload). Then the block goes to <see cref="ImageRetention"/>, which frees it once no
/// registered thread can still be using it. Nim's <c>cleanupSymbols</c> frees such a block at once. Under the runtime's lock.
/// </summary>
internal sealed class DroppedGlobals
{
    private readonly List<Entry> _entries = [];

    /// <summary>Dropped globals still allocated for a module that holds them.</summary>
    public int Count => _entries.Count;

    /// <summary>Keeps <paramref name="global"/>, which a reload dropped, for <paramref name="holders"/> (libraries that looked it up and are loaded).</summary>
    public void Keep(GlobalSymbol global, IEnumerable<ModuleLibrary> holders) =>
        _entries.Add(new Entry(global.Module, global.Name, global.Address, [.. holders]));

    /// <summary>The init code of <paramref name="library"/> looked up <paramref name="name"/> of <paramref name="module"/> again: it no longer holds a dropped block of that name.</summary>
    public void LookedUpAgain(ModuleLibrary library, string module, string name)
    {
        foreach (var entry in _entries)
        {
            if (entry.Module == module && entry.Name == name)
            {
                entry.Holders.Remove(library);
            }
        }
    }

    /// <summary>Takes out the blocks no holder that <paramref name="isLoaded"/> still holds, for retirement.</summary>
    public List<nint> TakeUnheld(Func<ModuleLibrary, bool> isLoaded)
    {
        var unheld = new List<nint>();
        _entries.RemoveAll(entry =>
        {
            entry.Holders.RemoveWhere(library => !isLoaded(library));
            if (entry.Holders.Count > 0)
            {
                return false;
            }

            unheld.Add(entry.Address);
            return true;
        });
        return unheld;
    }

    /// <summary>Every block (the runtime is being disposed).</summary>
    public List<nint> TakeAll()
    {
        var all = _entries.Select(e => e.Address).ToList();
        _entries.Clear();
        return all;
    }

    private sealed record Entry(string Module, string Name, nint Address, HashSet<ModuleLibrary> Holders);
}
