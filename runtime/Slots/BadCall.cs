namespace HcrLab.Runtime;

/// <summary>A call through the slot of a proc that a reload or an unload removed.</summary>
/// <param name="Module">The module the removed proc belonged to.</param>
/// <param name="Name">The removed proc's name.</param>
/// <param name="Slot">The slot that was called.</param>
/// <param name="Count">How many bad calls the table had seen, this one included.</param>
public sealed record BadCall(string Module, string Name, JumpSlot Slot, long Count)
{
    /// <summary>The one line the runtime writes to standard error.</summary>
    public override string ToString() =>
        $"hcr: bad call: proc '{Name}' of module '{Module}' was removed ({Slot}); the call returns 0";
}

/// <summary>Carries a <see cref="BadCall"/> to subscribers of <see cref="JumpTable.BadCallOccurred"/>.</summary>
public sealed class BadCallEventArgs(BadCall call) : EventArgs
{
    public BadCall Call { get; } = call;
}
