namespace HcrLab.Encoders;

/// <summary>
/// ARM in Thumb-2 state. Reading PC gives the instruction's address + 4; a literal load uses that value rounded down to
/// a word, so a slot that is 2 mod 4 puts two bytes of padding before its word-aligned literal. A 32-bit Thumb
/// instruction is two little-endian halfwords, the first one first.
/// </summary>
public sealed class ThumbJumpEncoder : JumpEncoder
{
    private const int PcBias = 4;

    /// <summary><c>B</c> encoding T2: 11100, imm11.</summary>
    private const ushort BranchNarrow = 0xE000;

    /// <summary><c>B</c> encoding T4: 11110 S imm10 | 10 J1 1 J2 imm11.</summary>
    private const ushort BranchWideHigh = 0xF000;

    private const ushort BranchWideLow = 0x9000;

    /// <summary><c>LDR.W PC, [PC, #+imm12]</c> encoding T2: 11111000 U=1 1011111 | Rt=1111 imm12.</summary>
    private const ushort LoadPcHigh = 0xF8DF;

    private const ushort LoadPcLow = 0xF000;

    private ThumbJumpEncoder(CpuFacts facts, IReadOnlyList<JumpForm> forms)
        : base(facts, forms)
    {
    }

    /// <summary>The shared Thumb-2 encoder: forms <c>b.n</c> and <c>b.w</c> (Thumb targets) and <c>ldr.w-pc</c> (any target, either state).</summary>
    public static ThumbJumpEncoder Instance { get; } = new(
        new CpuFacts
        {
            Isa = InstructionSet.Thumb,
            AddressBits = 32,
            InstructionAlignment = 2,
            TargetAlignment = 4,
            TableSlot = new SlotLayout(8, 4),
            ClobberedRegisters = "none",
            NeedsCacheMaintenance = true,
            PaddingPattern = [0x00, 0xDE], // udf #0
            MaxAtomicStore = 4,
            SelfLoop = [0xFE, 0xE7], // b.n . (PC + 4 - 4)
        },
        [
            new()
            {
                Isa = InstructionSet.Thumb, Name = "b.n", Syntax = "b.n label", Kind = JumpKind.Relative, InstructionBytes = 2,
                Targets = TargetStates.Thumb, PcBias = PcBias, MinDisplacement = -2048, MaxDisplacement = 2046, Granularity = 2,
            },
            new()
            {
                Isa = InstructionSet.Thumb, Name = "b.w", Syntax = "b.w label", Kind = JumpKind.Relative, InstructionBytes = 4,
                Targets = TargetStates.Thumb, PcBias = PcBias, MinDisplacement = -(1L << 24), MaxDisplacement = (1L << 24) - 2, Granularity = 2,
            },
            new()
            {
                Isa = InstructionSet.Thumb, Name = "ldr.w-pc", Syntax = "ldr.w pc, [pc, #imm]; .word target", Kind = JumpKind.Literal,
                InstructionBytes = 4, Targets = TargetStates.Interworking, LiteralBytes = 4, CodeLiteralAlignment = 4,
            },
        ]);

    /// <inheritdoc/>
    protected override void EncodeInstructions(in JumpPlan plan, Span<byte> instructions)
    {
        switch (plan.Form.InstructionBytes, plan.Form.Kind)
        {
            case (2, JumpKind.Relative):
                {
                    long displacement = Displacement(plan.Form, plan.Slot, plan.Target);
                    WriteInstruction16(instructions, (ushort)(BranchNarrow | ((displacement >> 1) & 0x7FF)));
                    break;
                }

            case (4, JumpKind.Relative):
                {
                    // imm32 = SignExtend(S:I1:I2:imm10:imm11:0) with I1 = NOT(J1 XOR S), I2 = NOT(J2 XOR S).
                    long displacement = Displacement(plan.Form, plan.Slot, plan.Target);
                    uint s = (uint)(displacement >> 24) & 1;
                    uint i1 = (uint)(displacement >> 23) & 1;
                    uint i2 = (uint)(displacement >> 22) & 1;
                    uint imm10 = (uint)(displacement >> 12) & 0x3FF;
                    uint imm11 = (uint)(displacement >> 1) & 0x7FF;
                    uint j1 = (~i1 ^ s) & 1;
                    uint j2 = (~i2 ^ s) & 1;
                    WriteInstruction16(instructions, (ushort)(BranchWideHigh | (s << 10) | imm10));
                    WriteInstruction16(instructions[2..], (ushort)(BranchWideLow | (j1 << 13) | (j2 << 11) | imm11));
                    break;
                }

            default:
                {
                    ulong wordAlignedPc = (plan.Slot + PcBias) & ~3UL;
                    uint offset = checked((uint)(plan.LiteralAddress - wordAlignedPc));
                    WriteInstruction16(instructions, LoadPcHigh);
                    WriteInstruction16(instructions[2..], (ushort)(LoadPcLow | offset));
                    break;
                }
        }
    }
}
