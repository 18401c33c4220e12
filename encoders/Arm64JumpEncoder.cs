namespace HcrLab.Encoders;

/// <summary>
/// AArch64. PC reads as the instruction's own address. The long forms go through x16 (IP0), which the AAPCS64 leaves
/// to veneers and PLT stubs, so a trampoline may clobber it; nothing else is touched. The literal is always 8-aligned
/// so the CPU loads it in one single-copy-atomic access.
/// </summary>
public sealed class Arm64JumpEncoder : JumpEncoder
{
    /// <summary><c>B</c>: 000101 imm26.</summary>
    private const uint Branch = 0x1400_0000;

    /// <summary><c>ADRP X16, label</c>: 1 immlo 10000 immhi Rd=16.</summary>
    private const uint AdrpX16 = 0x9000_0010;

    /// <summary><c>ADD X16, X16, #imm12</c>: sf=1 op=0 S=0 100010 sh=0 imm12 Rn=16 Rd=16.</summary>
    private const uint AddX16X16 = 0x9100_0210;

    /// <summary><c>BR X16</c>: 1101011 0000 11111 000000 Rn=16 00000.</summary>
    private const uint BrX16 = 0xD61F_0200;

    /// <summary><c>LDR X16, label</c> (literal, 64-bit): 01 011 0 00 imm19 Rt=16.</summary>
    private const uint LdrX16Literal = 0x5800_0010;

    private Arm64JumpEncoder(CpuFacts facts, IReadOnlyList<JumpForm> forms)
        : base(facts, forms)
    {
    }

    /// <summary>The shared arm64 encoder: forms <c>b</c> (±128 MiB), <c>adrp-add-br</c> (±4 GiB by page) and <c>ldr-br</c> (any target).</summary>
    public static Arm64JumpEncoder Instance { get; } = new(
        new CpuFacts
        {
            Isa = InstructionSet.Arm64,
            AddressBits = 64,
            InstructionAlignment = 4,
            TargetAlignment = 4,
            TableSlot = new SlotLayout(16, 8),
            ClobberedRegisters = "x16",
            NeedsCacheMaintenance = true,
            PaddingPattern = [0x00, 0x00, 0x00, 0x00], // udf #0
            MaxAtomicStore = 8,
            SelfLoop = [0x00, 0x00, 0x00, 0x14], // b .
        },
        [
            new()
            {
                Isa = InstructionSet.Arm64, Name = "b", Syntax = "b label", Kind = JumpKind.Relative, InstructionBytes = 4,
                Targets = TargetStates.Native, MinDisplacement = -(1L << 27), MaxDisplacement = (1L << 27) - 4, Granularity = 4,
            },
            new()
            {
                Isa = InstructionSet.Arm64, Name = "adrp-add-br", Syntax = "adrp x16, page; add x16, x16, #lo12; br x16",
                Kind = JumpKind.PageRelative, InstructionBytes = 12, Targets = TargetStates.Native,
                MinDisplacement = -(1L << 32), MaxDisplacement = (1L << 32) - 4096, Granularity = 4096,
            },
            new()
            {
                Isa = InstructionSet.Arm64, Name = "ldr-br", Syntax = "ldr x16, literal; br x16; .quad target", Kind = JumpKind.Literal,
                InstructionBytes = 8, Targets = TargetStates.Native, LiteralBytes = 8, CodeLiteralAlignment = 8,
            },
        ]);

    /// <inheritdoc/>
    protected override void EncodeInstructions(in JumpPlan plan, Span<byte> instructions)
    {
        switch (plan.Form.Kind)
        {
            case JumpKind.Relative:
                {
                    long displacement = Displacement(plan.Form, plan.Slot, plan.Target);
                    WriteInstruction32(instructions, Branch | ((uint)(displacement >> 2) & 0x03FF_FFFF));
                    break;
                }

            case JumpKind.PageRelative:
                {
                    long pages = Displacement(plan.Form, plan.Slot, plan.Target) >> 12;
                    uint immlo = (uint)pages & 3;
                    uint immhi = (uint)(pages >> 2) & 0x7_FFFF;
                    uint low12 = (uint)plan.Target & 0xFFF;
                    WriteInstruction32(instructions, AdrpX16 | (immlo << 29) | (immhi << 5));
                    WriteInstruction32(instructions[4..], AddX16X16 | (low12 << 10));
                    WriteInstruction32(instructions[8..], BrX16);
                    break;
                }

            default:
                {
                    // The LDR sits at the slot, so its offset is the literal's offset in the slot, in words.
                    uint imm19 = (uint)plan.LiteralOffset >> 2;
                    WriteInstruction32(instructions, LdrX16Literal | (imm19 << 5));
                    WriteInstruction32(instructions[4..], BrX16);
                    break;
                }
        }
    }
}
