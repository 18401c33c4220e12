namespace HcrLab.Encoders;

/// <summary>How a slot is (re-)written.</summary>
public enum PatchMode
{
    /// <summary>
    /// The shortest form: a direct relative branch when the target is in reach, otherwise an absolute form. Re-pointing
    /// may rewrite instruction bytes, so it is safe while another thread executes the slot only when
    /// <see cref="SlotWriter.Repoint"/> finds an order the CPU's rules allow (<see cref="SlotWrites.WhileCallersRun"/>).
    /// </summary>
    Code,

    /// <summary>
    /// The slot's instructions load the target from an aligned, pointer-sized literal and are written once. Re-pointing
    /// is one aligned atomic store of the literal: no instruction changes, no instruction-cache maintenance, and a
    /// thread calling through the slot at that moment reaches either the old or the new target.
    /// </summary>
    Data,
}
