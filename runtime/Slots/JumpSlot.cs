namespace HcrLab.Runtime;

/// <summary>
/// One slot of a <see cref="JumpTable"/>: <see cref="Address"/> is the stable, executable address every caller uses;
/// calling it jumps to the slot's current target.
/// </summary>
public readonly record struct JumpSlot(int Index, nint Address)
{
    /// <summary>The slot as <c>slot N at 0xaddress</c>.</summary>
    public override string ToString() => $"slot {Index} at 0x{Address:x}";
}
