using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;
using Iced.Intel;
using NUnit.Framework;

namespace HcrLab.Tests.Disassembly;

/// <summary>Hand-derived encodings and the exact text Capstone gives them, and Iced's independent view of x86 encodings.</summary>
[TestFixture]
[Category("Disassembly")]
public sealed class JumpDisassemblerTextTests
{
    private JumpDisassembler _disassembler = null!;

    [OneTimeSetUp]
    public void CreateDisassembler() => _disassembler = new JumpDisassembler();

    [OneTimeTearDown]
    public void DisposeDisassembler() => _disassembler.Dispose();

    // i386 rel32 at 0x1000 to itself: the displacement counts from the next instruction, 0x1000 - 0x1005 = -5 = fffffffb,
    // little-endian fb ff ff ff after the opcode e9.
    [TestCase(InstructionSet.I386, "rel32", 0x1000UL, 0x1000UL, PatchMode.Code, "e9fbffffff", new[] { "jmp 0x1000" })]

    // amd64 rip-indirect, data mode at 0x10000000: the literal is aligned up from +6 to +8, and disp32 counts from the
    // next instruction (+6), so it is 2; two int3 pad, then the literal 0x700000000 little-endian.
    [TestCase(InstructionSet.Amd64, "rip-indirect", 0x1000_0000UL, 0x7_0000_0000UL, PatchMode.Data,
        "ff2502000000cccc0000000007000000", new[] { "jmp qword ptr [rip + 2]", "int3", "int3", ".quad 0x700000000" })]

    // A32 ldr pc, [pc, #-4]: cond e, 0101 P=1 U=0 W=0 L=1 = e51, Rn=f Rt=f, imm12 = 4 → e51ff004, little-endian 04 f0 1f e5;
    // PC reads 0x1008, minus 4 is the literal at 0x1004, which holds the Thumb target 0x2001.
    [TestCase(InstructionSet.A32, "ldr-pc", 0x1000UL, 0x2001UL, PatchMode.Code, "04f01fe501200000", new[] { "ldr pc, [pc, #-4]", ".word 0x2001" })]

    // Thumb b.w 0x1000 -> 0x1001 (itself): disp 0x1000 - 0x1004 = -4: S=1, I1=I2=1 so J1=J2=1, imm10=3ff, imm11=7fe:
    // f000|0400|03ff = f7ff, 9000|2000|0800|07fe = bffe → ff f7 fe bf. Capstone shows the even branch address.
    [TestCase(InstructionSet.Thumb, "b.w", 0x1000UL, 0x1001UL, PatchMode.Code, "fff7febf", new[] { "b.w #0x1000" })]

    // arm64 adrp-add-br in one page: adrp x16 with page delta 0 = 90000010; add x16, x16, #0x40 = 91000210 | 0x40 << 10 =
    // 91010210; br x16 = d61f0200. Capstone shows adrp's operand as the page's absolute address.
    [TestCase(InstructionSet.Arm64, "adrp-add-br", 0x10_0000_1000UL, 0x10_0000_1040UL, PatchMode.Code,
        "100000901002019100021fd6", new[] { "adrp x16, #0x1000001000", "add x16, x16, #0x40", "br x16" })]
    public void HandDerivedEncodingDecodesAsDerived(InstructionSet isa, string form, ulong slot, ulong target, PatchMode mode, string hex, string[] texts)
    {
        var encoder = JumpEncoders.For(isa);
        var plan = encoder.Plan(encoder.Form(form), slot, target, mode);
        var bytes = new byte[plan.Size];
        encoder.Encode(plan, bytes);
        Assert.That(Convert.ToHexStringLower(bytes), Is.EqualTo(hex), "the encoder's bytes");

        var report = _disassembler.Check(plan, bytes);

        Assert.That(report.Problems, Is.Empty, report.ToString());
        Assert.That(report.Instructions.Select(i => i.Text), Is.EqualTo(texts), report.ToString());
        Assert.That(string.Concat(report.Instructions.Select(i => i.Bytes)), Is.EqualTo(hex), "every byte shown once, in order");
        Assert.That(report.Instructions[0].Address, Is.EqualTo(slot));
    }

    [Test]
    public void DisassembleShowsUndecodableBytesAsData()
    {
        // 06 is invalid in 64-bit mode, 90 is nop, and a lone ff is an unfinished instruction.
        var lines = _disassembler.Disassemble(InstructionSet.Amd64, 0x1000, [0x06, 0x90, 0xFF]);

        Assert.That(lines.Select(l => l.ToString()), Is.EqualTo(new[]
        {
            "0x1000: 06               .byte 0x06",
            "0x1001: 90               nop",
            "0x1002: ff               .byte 0xff",
        }));
    }

    public static IEnumerable<TestCaseData> X86Cases() =>
        DisassemblyCases.All()
            .Where(c => c.Isa is InstructionSet.I386 or InstructionSet.Amd64)
            .Select(c => new TestCaseData(c).SetName("iced " + c));

    /// <summary>Iced, fed the same bytes, must land where the report says: the branch target, or the literal's address.</summary>
    [TestCaseSource(nameof(X86Cases))]
    public void IcedAgreesWithTheReport(DisassemblyCase testCase)
    {
        var encoder = JumpEncoders.For(testCase.Isa);
        var plan = encoder.Plan(encoder.Form(testCase.Form), testCase.Slot, testCase.Target, testCase.Mode);
        var bytes = new byte[plan.Size];
        encoder.Encode(plan, bytes);
        var report = _disassembler.Check(plan, bytes);

        var decoder = Decoder.Create(encoder.Facts.AddressBits, new ByteArrayCodeReader(bytes), plan.Slot);
        decoder.Decode(out var instruction);

        Assert.That(report.Agrees, Is.True, report.ToString());
        Assert.That(instruction.Length, Is.EqualTo(plan.Form.InstructionBytes));
        Assert.That(instruction.Mnemonic, Is.EqualTo(Mnemonic.Jmp));
        if (plan.Form.IsRelative)
        {
            Assert.That(instruction.NearBranchTarget, Is.EqualTo(report.DecodedTarget));
        }
        else
        {
            ulong address = instruction.IsIPRelativeMemoryOperand ? instruction.IPRelativeMemoryAddress : instruction.MemoryDisplacement64;
            Assert.That(address, Is.EqualTo(plan.LiteralAddress));
        }
    }
}
