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
    /// <summary>The bad call.</summary>
    public BadCall Call { get; } = call;
}

/// <summary>
/// A released slot handed to another proc (<see cref="JumpTable.SlotReused"/>): from now on a call through its address
/// runs <see cref="NewModule"/>'s <see cref="NewName"/> instead of reporting a bad call of the removed proc.
/// </summary>
public sealed class SlotReusedEventArgs(JumpSlot slot, string removedModule, string removedName, string? newModule, string? newName) : EventArgs
{
    /// <summary>The slot handed to the new proc.</summary>
    public JumpSlot Slot { get; } = slot;

    /// <summary>The module of the removed proc whose slot it was.</summary>
    public string RemovedModule { get; } = removedModule;

    /// <summary>The name of the removed proc whose slot it was.</summary>
    public string RemovedName { get; } = removedName;

    /// <summary>The new proc's module, or null for an allocation with no name.</summary>
    public string? NewModule { get; } = newModule;

    /// <summary>The new proc's name, or null for an allocation with no name.</summary>
    public string? NewName { get; } = newName;

    /// <summary>The reuse in words, with what it means for addresses of the removed proc still held.</summary>
    public override string ToString() =>
        $"jump table: {Slot} of removed proc '{RemovedName}' of module '{RemovedModule}' is reused for " +
        (NewName is null ? "a new proc" : $"proc '{NewName}' of module '{NewModule}'") +
        " (no never-used slot was left and every registered thread had reported a quiescent state since its release); " +
        "an address of the removed proc still held anywhere now calls the new proc";
}
