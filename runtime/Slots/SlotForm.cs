namespace HcrLab.Runtime;

/// <summary>What a <see cref="JumpTable"/> slot holds. Either way a re-point is one aligned atomic store that a thread calling through the slot at that moment sees whole.</summary>
public enum SlotForm
{
    /// <summary>
    /// <c>jmp rel32</c> straight to the target when it is within ±2 GiB of the slot, the common case with the table placed
    /// near the modules; a re-point stores only the 4-byte displacement, which is aligned and never changes the
    /// instruction's length or opcode. A target out of reach goes through an indirect jump in the slot's tail, whose
    /// literal is stored first: the displacement then points at the tail. 32 bytes per slot.
    /// </summary>
    Direct,

    /// <summary>
    /// <c>jmp [rip+disp32]</c> through an aligned 8-byte literal in the slot, for every target: instructions are written
    /// once and a re-point stores the literal. One load more per call than <see cref="Direct"/>; 16 bytes per slot.
    /// </summary>
    Indirect,
}
