namespace HcrLab.Encoders;

/// <summary>How a form finds its target.</summary>
public enum JumpKind
{
    /// <summary>A branch whose displacement is encoded in the instruction, measured from the slot plus the PC bias.</summary>
    Relative,

    /// <summary>A 4 KiB-page displacement plus an in-page offset (arm64 <c>ADRP</c>+<c>ADD</c>).</summary>
    PageRelative,

    /// <summary>An absolute target loaded from a pointer-sized literal stored in the slot after the instructions.</summary>
    Literal,
}

/// <summary>Which instruction-set states a form can branch into.</summary>
[Flags]
public enum TargetStates
{
    /// <summary>The one state of x86 and arm64.</summary>
    Native = 1,

    /// <summary>ARM state: an even target address.</summary>
    A32 = 2,

    /// <summary>Thumb state: a target address with bit 0 set.</summary>
    Thumb = 4,

    /// <summary>Both ARM states: the form interworks (it loads the PC, so bit 0 of the target selects the state).</summary>
    Interworking = A32 | Thumb,
}

/// <summary>
/// One jump form of one instruction set, as data: its size, what it can reach and which states it enters. For relative
/// forms the displacement is <c>branch target − origin</c>, computed modulo the CPU's address width, where the origin is
/// the slot plus <see cref="PcBias"/> (for a page-relative form, both addresses rounded down to their 4 KiB page). The
/// form reaches a target exactly when that displacement lies in [<see cref="MinDisplacement"/>,
/// <see cref="MaxDisplacement"/>] and is a multiple of <see cref="Granularity"/>; both limits are exact.
/// </summary>
public sealed record JumpForm
{
    /// <summary>The instruction set the form belongs to.</summary>
    public required InstructionSet Isa { get; init; }

    /// <summary>Short, stable name used in plans, reports and test vectors, e.g. <c>rel32</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The form in assembly syntax, e.g. <c>jmp [rip+disp32]; .quad target</c>.</summary>
    public required string Syntax { get; init; }

    /// <summary>How the form finds its target: relative, page-relative or through a literal.</summary>
    public required JumpKind Kind { get; init; }

    /// <summary>Bytes of instructions at the start of the slot (padding and literal come after).</summary>
    public required int InstructionBytes { get; init; }

    /// <summary>The instruction-set states the form can branch into.</summary>
    public required TargetStates Targets { get; init; }

    /// <summary>The smallest displacement a relative form reaches, exactly (0 for a literal form).</summary>
    public long MinDisplacement { get; init; }

    /// <summary>The largest displacement a relative form reaches, exactly (0 for a literal form).</summary>
    public long MaxDisplacement { get; init; }

    /// <summary>What the displacement must be a multiple of (the instruction alignment the encoding drops, or 4096 for page-relative).</summary>
    public int Granularity { get; init; } = 1;

    /// <summary>What the CPU adds to the slot address before adding the displacement (x86: the instruction length; A32: 8; Thumb: 4).</summary>
    public int PcBias { get; init; }

    /// <summary>Bytes of the literal (the pointer size); zero for forms without one.</summary>
    public int LiteralBytes { get; init; }

    /// <summary>Alignment of the literal in <see cref="PatchMode.Code"/> (1 where the CPU loads it unaligned and nothing needs it atomic).</summary>
    public int CodeLiteralAlignment { get; init; } = 1;

    /// <summary>True for a form that loads its target from a literal; only such forms serve <see cref="PatchMode.Data"/>.</summary>
    public bool HasLiteral => Kind == JumpKind.Literal;

    /// <summary>True for a form whose reach is limited by a displacement (relative or page-relative).</summary>
    public bool IsRelative => Kind != JumpKind.Literal;

    /// <summary>The instruction set and the form's name, e.g. <c>amd64 rel32</c>.</summary>
    public override string ToString() => $"{Isa.ShortName()} {Name}";
}
