namespace HcrLab.Runtime;

/// <summary>A registered proc: a (module, name) pair, the slot every caller uses, and where the slot jumps now.</summary>
public sealed class ProcSymbol
{
    internal ProcSymbol(string module, string name, JumpSlot slot, nint target, long generation)
    {
        Module = module;
        Name = name;
        Slot = slot;
        Target = target;
        Generation = generation;
    }

    public string Module { get; }

    public string Name { get; }

    public JumpSlot Slot { get; }

    /// <summary>The stable address callers call: the slot's executable address.</summary>
    public nint Address => Slot.Address;

    /// <summary>The function the slot jumps to (the latest registration's).</summary>
    public nint Target { get; internal set; }

    /// <summary>The generation of the latest registration; older than the runtime's after a reload means "removed".</summary>
    public long Generation { get; internal set; }

    public override string ToString() => $"proc {Module}.{Name} ({Slot} -> 0x{Target:x}, generation {Generation})";
}
