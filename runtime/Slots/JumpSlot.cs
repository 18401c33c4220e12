namespace HcrLab.Runtime;

/// <summary>
/// One slot of a <see cref="JumpTable"/>: <see cref="Address"/> is the stable, executable address every caller uses;
/// calling it jumps to the slot's current target.
/// </summary>
public readonly record struct JumpSlot(int Index, nint Address)
{
    public override string ToString() => $"slot {Index} at 0x{Address:x}";
}
