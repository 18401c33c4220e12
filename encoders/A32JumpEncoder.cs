namespace HcrLab.Encoders;

/// <summary>
/// ARM in A32 state. Reading PC gives the instruction's address + 8. A32 offers nothing shorter for a target that
/// <c>B</c> cannot take: <c>BLX imm</c> would reach Thumb code in 4 bytes but writes LR, which a trampoline must keep.
/// </summary>
public sealed class A32JumpEncoder : JumpEncoder
{
    private const int PcBias = 8;

    /// <summary><c>B</c>, cond AL (1110), opcode 101, L=0; imm24 in bits 23..0.</summary>
    private const uint BranchAlways = 0xEA00_0000;

    /// <summary><c>LDR PC, [PC, #±imm12]</c>, cond AL: 0101 P=1 U W=0 L=1, Rn=PC, Rt=PC; U (bit 23) selects +imm.</summary>
    private const uint LoadPcFromPc = 0xE51F_F000;

    private const uint AddOffset = 1u << 23;

    private A32JumpEncoder(CpuFacts facts, IReadOnlyList<JumpForm> forms)
        : base(facts, forms)
    {
    }

    /// <summary>The shared A32 encoder: forms <c>b</c> (A32 targets within ±32 MiB) and <c>ldr-pc</c> (any target, either state).</summary>
    public static A32JumpEncoder Instance { get; } = new(
        new CpuFacts
        {
            Isa = InstructionSet.A32,
            AddressBits = 32,
            InstructionAlignment = 4,
            TargetAlignment = 4,
            TableSlot = new SlotLayout(8, 4),
            ClobberedRegisters = "none",
            NeedsCacheMaintenance = true,
            PaddingPattern = [0xF0, 0x00, 0xF0, 0xE7], // udf #0
            MaxAtomicStore = 4,
            SelfLoop = [0xFE, 0xFF, 0xFF, 0xEA], // b . (PC + 8 - 8)
        },
        [
            new()
            {
                Isa = InstructionSet.A32, Name = "b", Syntax = "b label", Kind = JumpKind.Relative, InstructionBytes = 4,
                Targets = TargetStates.A32, PcBias = PcBias, MinDisplacement = -(1L << 25), MaxDisplacement = (1L << 25) - 4, Granularity = 4,
            },
            new()
            {
                Isa = InstructionSet.A32, Name = "ldr-pc", Syntax = "ldr pc, [pc, #-4]; .word target", Kind = JumpKind.Literal,
                InstructionBytes = 4, Targets = TargetStates.Interworking, LiteralBytes = 4, CodeLiteralAlignment = 4,
            },
        ]);

    /// <inheritdoc/>
    protected override void EncodeInstructions(in JumpPlan plan, Span<byte> instructions)
    {
        if (plan.Form.Kind == JumpKind.Relative)
        {
            long displacement = Displacement(plan.Form, plan.Slot, plan.Target);
            WriteInstruction32(instructions, BranchAlways | ((uint)(displacement >> 2) & 0x00FF_FFFF));
            return;
        }

        // The literal follows the instruction, so the offset from PC (slot + 8) is -4; LDR to PC interworks on ARMv5T+.
        int offset = plan.LiteralOffset - PcBias;
        uint word = LoadPcFromPc | (uint)Math.Abs(offset) | (offset >= 0 ? AddOffset : 0);
        WriteInstruction32(instructions, word);
    }
}
