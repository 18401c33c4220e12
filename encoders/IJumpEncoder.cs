namespace HcrLab.Encoders;

/// <summary>
/// Encodes a jump from a slot to a target for one instruction set. Work is in two steps: a plan (which form, how many
/// bytes, which bytes change, what the change requires) and a write of that plan into the slot's bytes. The runtime's
/// jump table and the lab both use this interface, so what the lab proves is what the runtime writes.
/// </summary>
public interface IJumpEncoder
{
    /// <summary>The facts of the encoder's instruction set (address width, alignment, slot layout, atomic store width).</summary>
    CpuFacts Facts { get; }

    /// <summary>The forms, shortest first.</summary>
    IReadOnlyList<JumpForm> Forms { get; }

    /// <summary>The form named <paramref name="name"/> (as in <see cref="JumpForm.Name"/>).</summary>
    JumpForm Form(string name);

    /// <summary>
    /// The displacement of <paramref name="target"/> from <paramref name="slot"/> as <paramref name="form"/> measures it
    /// (see <see cref="JumpForm"/>), whether or not it is in reach.
    /// </summary>
    long Displacement(JumpForm form, ulong slot, ulong target);

    /// <summary>Plans a first write of a slot with the shortest form that is correct for the pair in <paramref name="mode"/>.</summary>
    /// <exception cref="UnencodableJumpException">No form can encode the pair.</exception>
    JumpPlan Plan(ulong slot, ulong target, PatchMode mode);

    /// <summary>Plans a first write of a slot with exactly <paramref name="form"/>.</summary>
    /// <exception cref="UnencodableJumpException">That form cannot encode the pair.</exception>
    JumpPlan Plan(JumpForm form, ulong slot, ulong target, PatchMode mode);

    /// <summary>Like <see cref="Plan(JumpForm, ulong, ulong, PatchMode)"/>, reporting a refusal instead of throwing it.</summary>
    bool TryPlan(JumpForm form, ulong slot, ulong target, PatchMode mode, out JumpPlan plan, out UnencodableJumpException? refusal);

    /// <summary>
    /// Plans re-pointing a slot that holds <paramref name="current"/> to <paramref name="newTarget"/>. In data mode only the
    /// literal changes; in code mode the shortest form for the new target is chosen and <see cref="JumpPlan.Changed"/> is
    /// exactly the bytes that differ from the current encoding.
    /// </summary>
    JumpPlan PlanRepoint(in JumpPlan current, ulong newTarget);

    /// <summary>Writes the whole encoding of <paramref name="plan"/> (instructions, padding, literal) to <paramref name="slot"/>.</summary>
    /// <exception cref="SlotTooSmallException"><paramref name="slot"/> is shorter than <see cref="JumpPlan.Size"/>.</exception>
    void Encode(in JumpPlan plan, Span<byte> slot);

    /// <summary>
    /// Writes only the bytes in <see cref="JumpPlan.Changed"/>: applying a re-point plan to a slot that holds the previous
    /// plan. This is a plain byte copy. To re-point a slot that other threads may be executing, perform the stores of
    /// <see cref="SlotWriter.Repoint"/> instead (when <see cref="SlotWrites.WhileCallersRun"/>), as the runtime's jump
    /// table and the lab do.
    /// </summary>
    /// <exception cref="SlotTooSmallException"><paramref name="slot"/> is shorter than <see cref="JumpPlan.Size"/>.</exception>
    void Write(in JumpPlan plan, Span<byte> slot);
}
