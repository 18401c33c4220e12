namespace HcrLab.Runtime;

/// <summary>A registered proc: a (module, name) pair, the slot every caller uses, and where the slot jumps now.</summary>
public sealed class ProcSymbol : NamedSymbol
{
    internal ProcSymbol(string module, byte[] key, uint hash, string? name, JumpSlot slot, nint target, long generation)
        : base(module, key, hash, name, generation)
    {
        Slot = slot;
        Target = target;
    }

    /// <summary>The jump-table slot every caller of the proc goes through.</summary>
    public JumpSlot Slot { get; }

    /// <summary>The stable address callers call: the slot's executable address.</summary>
    public nint Address => Slot.Address;

    /// <summary>The function the slot jumps to (the latest registration's).</summary>
    public nint Target { get; internal set; }

    /// <summary>The proc's module, name, slot, target and generation, in one line.</summary>
    public override string ToString() => $"proc {Module}.{Name} ({Slot} -> 0x{Target:x}, generation {Generation})";
}
