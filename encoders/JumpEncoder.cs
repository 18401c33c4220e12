using System.Buffers.Binary;

namespace HcrLab.Encoders;

/// <summary>
/// What every CPU shares: checking a (slot, target) pair against the CPU's facts and a form's reach, choosing the
/// shortest form, laying out padding and the literal, and diffing a re-point. A CPU adds its forms and the bytes of
/// their instructions.
/// </summary>
public abstract class JumpEncoder : IJumpEncoder
{
    /// <summary>The largest encoding of any CPU, so a whole slot can be built on the stack.</summary>
    private const int MaxEncodingBytes = 32;

    private const ulong PageMask = 0xFFF;

    /// <summary>Builds an encoder from its CPU's facts and its forms, shortest first (the order <see cref="Plan(ulong, ulong, PatchMode)"/> tries them in).</summary>
    protected JumpEncoder(CpuFacts facts, IReadOnlyList<JumpForm> forms)
    {
        Facts = facts;
        Forms = forms;
    }

    /// <inheritdoc/>
    public CpuFacts Facts { get; }

    /// <inheritdoc/>
    public IReadOnlyList<JumpForm> Forms { get; }

    /// <inheritdoc/>
    public JumpForm Form(string name) =>
        Forms.FirstOrDefault(f => f.Name == name)
        ?? throw new ArgumentException(
            $"{Facts.Isa.ShortName()} has no form '{name}'; its forms are {string.Join(", ", Forms.Select(f => f.Name))}", nameof(name));

    /// <inheritdoc/>
    public JumpPlan Plan(ulong slot, ulong target, PatchMode mode)
    {
        UnencodableJumpException? farthest = null;
        foreach (var form in Forms)
        {
            if (mode == PatchMode.Data && !form.HasLiteral)
            {
                continue;
            }

            if (TryPlan(form, slot, target, mode, out var plan, out var refusal))
            {
                return plan;
            }

            // A refusal that is not about reach (alignment, address space) applies to every form: report it as it is.
            if (refusal!.Reason != UnencodableReason.OutOfReach && refusal.Reason != UnencodableReason.WrongTargetState)
            {
                throw Refuse(null, slot, target, refusal.Reason, refusal.Detail);
            }

            farthest = refusal;
        }

        throw Refuse(null, slot, target, UnencodableReason.OutOfReach, $"no {mode.ToString().ToLowerInvariant()}-mode form reaches it ({farthest!.Form}: {farthest.Detail})");
    }

    /// <inheritdoc/>
    public JumpPlan Plan(JumpForm form, ulong slot, ulong target, PatchMode mode) =>
        TryPlan(form, slot, target, mode, out var plan, out var refusal) ? plan : throw refusal!;

    /// <inheritdoc/>
    public bool TryPlan(JumpForm form, ulong slot, ulong target, PatchMode mode, out JumpPlan plan, out UnencodableJumpException? refusal)
    {
        if (form.Isa != Facts.Isa)
        {
            throw new ArgumentException($"form {form} does not belong to {Facts.Isa.ShortName()}", nameof(form));
        }

        plan = default;
        refusal = Check(form, slot, target, mode);
        if (refusal is not null)
        {
            return false;
        }

        int literalOffset = -1;
        int size = form.InstructionBytes;
        if (form.HasLiteral)
        {
            int alignment = mode == PatchMode.Data ? form.LiteralBytes : form.CodeLiteralAlignment;
            literalOffset = (int)(AlignUp(slot + (ulong)form.InstructionBytes, (ulong)alignment) - slot);
            size = literalOffset + form.LiteralBytes;
        }

        if (slot + (ulong)(size - 1) > Facts.MaxAddress || slot + (ulong)(size - 1) < slot)
        {
            refusal = Refuse(form.Name, slot, target, UnencodableReason.BeyondAddressSpace,
                $"the {size}-byte encoding would run past the end of the {Facts.AddressBits}-bit address space");
            return false;
        }

        plan = new JumpPlan(form, mode, slot, target, size, literalOffset, new ByteRange(0, size),
            ChangesInstructions: true, NeedsCacheMaintenance: Facts.NeedsCacheMaintenance);
        return true;
    }

    /// <inheritdoc/>
    public JumpPlan PlanRepoint(in JumpPlan current, ulong newTarget)
    {
        JumpPlan next = current.Mode == PatchMode.Data
            ? Plan(current.Form, current.Slot, newTarget, PatchMode.Data)
            : Plan(current.Slot, newTarget, PatchMode.Code);

        Span<byte> before = stackalloc byte[MaxEncodingBytes];
        Span<byte> after = stackalloc byte[MaxEncodingBytes];
        Encode(current, before);
        Encode(next, after);

        // Bytes past the current encoding's end were not the slot's; count them as changed if the new encoding uses them.
        int first = -1, last = -1;
        for (int i = 0; i < next.Size; i++)
        {
            if (i >= current.Size || before[i] != after[i])
            {
                if (first < 0)
                {
                    first = i;
                }

                last = i;
            }
        }

        var changed = first < 0 ? ByteRange.Empty : new ByteRange(first, last - first + 1);
        bool changesInstructions = !changed.IsWithin(next.Literal);
        return next with
        {
            Changed = changed,
            ChangesInstructions = changesInstructions,
            NeedsCacheMaintenance = changesInstructions && Facts.NeedsCacheMaintenance,
        };
    }

    /// <inheritdoc/>
    public void Encode(in JumpPlan plan, Span<byte> slot)
    {
        RequireFits(plan, slot);
        EncodeInstructions(plan, slot[..plan.Form.InstructionBytes]);
        if (plan.Form.HasLiteral)
        {
            var pattern = Facts.PaddingPattern;
            for (int i = plan.Form.InstructionBytes; i < plan.LiteralOffset; i++)
            {
                slot[i] = pattern[(i - plan.Form.InstructionBytes) % pattern.Length];
            }

            WriteLiteral(slot.Slice(plan.LiteralOffset, plan.Form.LiteralBytes), plan.Target);
        }
    }

    /// <inheritdoc/>
    public void Write(in JumpPlan plan, Span<byte> slot)
    {
        RequireFits(plan, slot);
        Span<byte> whole = stackalloc byte[MaxEncodingBytes];
        Encode(plan, whole);
        whole.Slice(plan.Changed.Offset, plan.Changed.Length).CopyTo(slot[plan.Changed.Offset..]);
    }

    /// <summary>Writes the form's instruction bytes (exactly <see cref="JumpForm.InstructionBytes"/>) for a plan that passed every check.</summary>
    protected abstract void EncodeInstructions(in JumpPlan plan, Span<byte> instructions);

    /// <summary>
    /// The displacement of <paramref name="target"/> from <paramref name="slot"/> as the form measures it: modulo the
    /// address width, sign-extended. For page-relative forms it is in bytes between the two 4 KiB pages.
    /// </summary>
    public long Displacement(JumpForm form, ulong slot, ulong target)
    {
        ulong branchTarget = Facts.HasThumbBit ? target & ~1UL : target;
        ulong origin = slot + (ulong)form.PcBias;
        if (form.Kind == JumpKind.PageRelative)
        {
            branchTarget &= ~PageMask;
            origin &= ~PageMask;
        }

        ulong difference = branchTarget - origin;
        return Facts.AddressBits == 64 ? unchecked((long)difference) : unchecked((int)(uint)difference);
    }

    /// <summary>Writes a 32-bit instruction word in little-endian byte order (how every CPU here stores its instructions).</summary>
    protected static void WriteInstruction32(Span<byte> bytes, uint word) => BinaryPrimitives.WriteUInt32LittleEndian(bytes, word);

    /// <summary>Writes a 16-bit Thumb halfword in little-endian byte order.</summary>
    protected static void WriteInstruction16(Span<byte> bytes, ushort halfword) => BinaryPrimitives.WriteUInt16LittleEndian(bytes, halfword);

    private UnencodableJumpException? Check(JumpForm form, ulong slot, ulong target, PatchMode mode)
    {
        if (slot > Facts.MaxAddress)
        {
            return Refuse(form.Name, slot, target, UnencodableReason.BeyondAddressSpace, $"the slot is beyond the {Facts.AddressBits}-bit address space");
        }

        if (target > Facts.MaxAddress)
        {
            return Refuse(form.Name, slot, target, UnencodableReason.BeyondAddressSpace, $"the target is beyond the {Facts.AddressBits}-bit address space");
        }

        if (slot % (ulong)Facts.InstructionAlignment != 0)
        {
            return Refuse(form.Name, slot, target, UnencodableReason.SlotMisaligned,
                $"a {Facts.Isa.ShortName()} slot must be {Facts.InstructionAlignment}-byte aligned");
        }

        var state = StateOf(target);
        if (state != TargetStates.Thumb && target % (ulong)Facts.TargetAlignment != 0)
        {
            string what = state == TargetStates.A32 ? "an A32 target (bit 0 clear)" : "a target";
            return Refuse(form.Name, slot, target, UnencodableReason.TargetMisaligned, $"{what} must be {Facts.TargetAlignment}-byte aligned");
        }

        if (mode == PatchMode.Data && !form.HasLiteral)
        {
            return Refuse(form.Name, slot, target, UnencodableReason.NotADataForm, "data mode needs a form that loads its target from a literal");
        }

        if ((form.Targets & state) == 0)
        {
            return Refuse(form.Name, slot, target, UnencodableReason.WrongTargetState,
                $"the form cannot enter {(state == TargetStates.Thumb ? "Thumb" : "A32")} state");
        }

        if (form.IsRelative)
        {
            long displacement = Displacement(form, slot, target);
            if (displacement < form.MinDisplacement || displacement > form.MaxDisplacement || displacement % form.Granularity != 0)
            {
                return Refuse(form.Name, slot, target, UnencodableReason.OutOfReach,
                    $"displacement {FormatSigned(displacement)} is outside [{FormatSigned(form.MinDisplacement)}, {FormatSigned(form.MaxDisplacement)}]"
                    + (form.Granularity > 1 ? $" in steps of {form.Granularity}" : ""));
            }
        }

        return null;
    }

    private TargetStates StateOf(ulong target) =>
        !Facts.HasThumbBit ? TargetStates.Native : (target & 1) != 0 ? TargetStates.Thumb : TargetStates.A32;

    private void WriteLiteral(Span<byte> literal, ulong target)
    {
        if (literal.Length == 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(literal, target);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(literal, checked((uint)target));
        }
    }

    private void RequireFits(in JumpPlan plan, Span<byte> slot)
    {
        if (slot.Length < plan.Size)
        {
            throw new SlotTooSmallException(Facts.Isa, plan.Form.Name, plan.Size, slot.Length);
        }
    }

    private UnencodableJumpException Refuse(string? form, ulong slot, ulong target, UnencodableReason reason, string detail) =>
        new(Facts.Isa, form, slot, target, reason, detail);

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static string FormatSigned(long value) => value < 0 ? $"-0x{(ulong)-value:X}" : $"0x{value:X}";
}
