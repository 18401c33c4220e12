namespace HcrLab.Encoders;

/// <summary>The encoder of each instruction set. Encoders hold no mutable state and are shared.</summary>
public static class JumpEncoders
{
    /// <summary>The shared encoder of <paramref name="isa"/>.</summary>
    public static IJumpEncoder For(InstructionSet isa) => isa switch
    {
        InstructionSet.I386 => X86JumpEncoder.I386,
        InstructionSet.Amd64 => X86JumpEncoder.Amd64,
        InstructionSet.A32 => A32JumpEncoder.Instance,
        InstructionSet.Thumb => ThumbJumpEncoder.Instance,
        InstructionSet.Arm64 => Arm64JumpEncoder.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "unknown instruction set"),
    };

    /// <summary>Every encoder, in the order of <see cref="InstructionSetNames.All"/>.</summary>
    public static IReadOnlyList<IJumpEncoder> All { get; } = [.. InstructionSetNames.All.Select(For)];
}
