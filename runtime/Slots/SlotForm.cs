namespace HcrLab.Runtime;

/// <summary>What a <see cref="JumpTable"/> slot holds. Either way a re-point is one aligned atomic store that a thread calling through the slot at that moment sees whole.</summary>
public enum SlotForm
{
    /// <summary>
    /// The CPU's direct branch straight to the target when it is in reach of the slot (x86-64: <c>jmp rel32</c>, ±2 GiB,
    /// a re-point stores only the aligned 4-byte displacement, never the opcode; arm64: <c>B imm26</c>, ±128 MiB, a
    /// re-point stores the whole aligned instruction and then makes it the one that runs), the common case with the
    /// table placed near the modules. A target out of reach goes through an indirect jump in the slot's tail, whose
    /// literal is stored first: the branch then points at the tail. 32 bytes per slot.
    /// </summary>
    Direct,

    /// <summary>
    /// <c>jmp [rip+disp32]</c> (x86-64) or <c>ldr x16, literal; br x16</c> (arm64) through an aligned 8-byte literal in
    /// the slot, for every target: instructions are written once and a re-point stores the literal. One load more per
    /// call than <see cref="Direct"/>; 16 bytes per slot.
    /// </summary>
    Indirect,
}
