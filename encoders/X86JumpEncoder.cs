namespace HcrLab.Encoders;

/// <summary>
/// i386 and amd64: one encoder, two address widths. x86 forms clobber no register. The relative forms' displacement is
/// measured from the end of the instruction (PC bias = its length); on i386 it wraps modulo 2^32, so <c>rel32</c>
/// reaches every address.
/// </summary>
public sealed class X86JumpEncoder : JumpEncoder
{
    private const byte JmpRel8 = 0xEB;
    private const byte JmpRel32 = 0xE9;
    private const byte GroupFive = 0xFF;

    /// <summary>ModRM for <c>FF /4</c> (jmp r/m) with mod=00, rm=101: disp32 (absolute on i386, RIP-relative on amd64).</summary>
    private const byte ModRmJmpDisp32 = 0x25;

    private X86JumpEncoder(CpuFacts facts, IReadOnlyList<JumpForm> forms)
        : base(facts, forms)
    {
    }

    /// <summary>The shared i386 encoder: forms <c>rel8</c>, <c>rel32</c> (reaches every address modulo 2^32) and <c>abs-indirect</c>.</summary>
    public static X86JumpEncoder I386 { get; } = Create(InstructionSet.I386);

    /// <summary>The shared amd64 encoder: forms <c>rel8</c>, <c>rel32</c> (±2 GiB) and <c>rip-indirect</c> (any target).</summary>
    public static X86JumpEncoder Amd64 { get; } = Create(InstructionSet.Amd64);

    private static X86JumpEncoder Create(InstructionSet isa)
    {
        bool is64 = isa == InstructionSet.Amd64;
        int pointer = is64 ? 8 : 4;
        var facts = new CpuFacts
        {
            Isa = isa,
            AddressBits = is64 ? 64 : 32,
            InstructionAlignment = 1,
            TargetAlignment = 1,

            // Data form at an aligned slot: FF 25 disp32 (6), padding to the pointer alignment, then the literal.
            TableSlot = is64 ? new SlotLayout(16, 8) : new SlotLayout(12, 4),
            ClobberedRegisters = "none",
            NeedsCacheMaintenance = false,
            PaddingPattern = [0xCC], // int3
            MaxAtomicStore = 8,
            SelfLoop = [0xEB, 0xFE], // jmp $
        };
        JumpForm[] forms =
        [
            new()
            {
                Isa = isa, Name = "rel8", Syntax = "jmp rel8", Kind = JumpKind.Relative, InstructionBytes = 2,
                Targets = TargetStates.Native, PcBias = 2, MinDisplacement = sbyte.MinValue, MaxDisplacement = sbyte.MaxValue,
            },
            new()
            {
                Isa = isa, Name = "rel32", Syntax = "jmp rel32", Kind = JumpKind.Relative, InstructionBytes = 5,
                Targets = TargetStates.Native, PcBias = 5, MinDisplacement = int.MinValue, MaxDisplacement = int.MaxValue,
            },
            new()
            {
                Isa = isa,
                Name = is64 ? "rip-indirect" : "abs-indirect",
                Syntax = is64 ? "jmp qword [rip+disp32]; .quad target" : "jmp dword [abs32]; .long target",
                Kind = JumpKind.Literal, InstructionBytes = 6, Targets = TargetStates.Native, LiteralBytes = pointer,
            },
        ];
        return new X86JumpEncoder(facts, forms);
    }

    /// <inheritdoc/>
    protected override void EncodeInstructions(in JumpPlan plan, Span<byte> instructions)
    {
        switch (plan.Form.Kind)
        {
            case JumpKind.Relative when plan.Form.InstructionBytes == 2:
                instructions[0] = JmpRel8;
                instructions[1] = unchecked((byte)Displacement(plan.Form, plan.Slot, plan.Target));
                break;
            case JumpKind.Relative:
                instructions[0] = JmpRel32;
                WriteInstruction32(instructions[1..], unchecked((uint)Displacement(plan.Form, plan.Slot, plan.Target)));
                break;
            default:
                instructions[0] = GroupFive;
                instructions[1] = ModRmJmpDisp32;

                // amd64: disp32 is relative to the next instruction (slot + 6); i386: it is the literal's address.
                uint disp32 = Facts.AddressBits == 64
                    ? (uint)(plan.LiteralOffset - plan.Form.InstructionBytes)
                    : checked((uint)plan.LiteralAddress);
                WriteInstruction32(instructions[2..], disp32);
                break;
        }
    }
}
