namespace HcrLab.Encoders;

/// <summary>
/// What an encoder will write into a slot, computed before any byte is written: the form, its size, where its literal is,
/// which bytes change relative to what the slot held before, and what the change requires of the writer.
/// </summary>
/// <param name="Form">The chosen form.</param>
/// <param name="Mode">The patch mode the plan was made for.</param>
/// <param name="Slot">The address the bytes are executed at.</param>
/// <param name="Target">The target; on ARM bit 0 selects Thumb state.</param>
/// <param name="Size">Bytes the whole encoding occupies from the slot address (instructions, padding, literal).</param>
/// <param name="LiteralOffset">Offset of the literal within the slot, or -1 for a form without one.</param>
/// <param name="Changed">The bytes that differ from the slot's previous content (all of them for a first write).</param>
/// <param name="ChangesInstructions">
/// True when <paramref name="Changed"/> touches instruction bytes, so anything that caches translated or decoded code
/// (an emulator, another core's pipeline) must drop what it holds for that range.
/// </param>
/// <param name="NeedsCacheMaintenance">
/// True when, in addition, the CPU needs explicit instruction-cache maintenance over <paramref name="Changed"/> (ARM: clean
/// the data cache and invalidate the instruction cache to the point of unification). x86 keeps its caches coherent.
/// </param>
public readonly record struct JumpPlan(
    JumpForm Form,
    PatchMode Mode,
    ulong Slot,
    ulong Target,
    int Size,
    int LiteralOffset,
    ByteRange Changed,
    bool ChangesInstructions,
    bool NeedsCacheMaintenance)
{
    /// <summary>The instruction bytes, from the start of the slot.</summary>
    public ByteRange Instructions => new(0, Form.InstructionBytes);

    /// <summary>The literal's bytes, or an empty range.</summary>
    public ByteRange Literal => LiteralOffset < 0 ? ByteRange.Empty : new(LiteralOffset, Form.LiteralBytes);

    /// <summary>
    /// The absolute addresses of <see cref="Changed"/>, both ends included (what to flush or invalidate), or null when
    /// nothing changes. Never wraps: an encoding that would run past the end of the address space is refused when planned.
    /// </summary>
    public AddressRange? ChangedAddresses => Changed.IsEmpty
        ? null
        : new AddressRange(Slot + (ulong)Changed.Offset, Slot + (ulong)(Changed.End - 1));

    /// <summary>The literal's absolute address (only meaningful when the form has a literal).</summary>
    public ulong LiteralAddress => Slot + (ulong)LiteralOffset;

    /// <summary>The form, mode, size and changed bytes in one line, for reports and test failures.</summary>
    public override string ToString() =>
        $"{Form.Name} ({Mode.ToString().ToLowerInvariant()} mode, {Size} bytes, changed {Changed}{(NeedsCacheMaintenance ? ", needs i-cache maintenance" : "")})";
}
