using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;
using NUnit.Framework;

namespace HcrLab.Tests.Disassembly;

/// <summary>
/// The checker is not a rubber stamp: a correct encoding with one byte changed, a branch into the wrong ARM state,
/// undecodable bytes or a wrong register must each produce a problem that names what differs.
/// </summary>
[TestFixture]
[Category("Disassembly")]
public sealed class JumpDisassemblerProblemTests
{
    private JumpDisassembler _disassembler = null!;

    [OneTimeSetUp]
    public void CreateDisassembler() => _disassembler = new JumpDisassembler();

    [OneTimeTearDown]
    public void DisposeDisassembler() => _disassembler.Dispose();

    // Each case flips bits of one byte of a correct encoding; the derivations give the bytes and what they then mean.
    // amd64 rel32 0x10000000 -> 0x10001000: disp 0x1000 - 5 = 0xffb, e9 fb 0f 00 00; fb^01 = fa: 0x10000005 + 0xffa.
    [TestCase(InstructionSet.Amd64, "rel32", 0x1000_0000UL, 0x1000_1000UL, PatchMode.Code, 1, 0x01,
        "branches to 0x10000fff, but the plan's target is 0x10001000")]

    // i386 abs-indirect: ff 25 06 00 00 10 (the literal's address 0x10000006); 06^01 = 07 points one byte past it.
    [TestCase(InstructionSet.I386, "abs-indirect", 0x1000_0000UL, 0xF000_0000UL, PatchMode.Code, 2, 0x01,
        "loads its target from 0x10000007, but the plan's literal is at 0x10000006")]

    // amd64 rip-indirect, data mode: literal at +8 = 00 00 00 00 07 00 00 00; its byte 4 07^01 = 06.
    [TestCase(InstructionSet.Amd64, "rip-indirect", 0x1000_0000UL, 0x7_0000_0000UL, PatchMode.Data, 12, 0x01,
        "the literal at 0x10000008 holds 0x600000000, but the plan's target is 0x700000000")]

    // A32 b 0x1000 -> 0x2000: (0x2000 - 0x1008) / 4 = 0x3fe, word ea0003fe = fe 03 00 ea; fe^01 = ff: 0x1008 + 0x3ff * 4.
    [TestCase(InstructionSet.A32, "b", 0x1000UL, 0x2000UL, PatchMode.Code, 0, 0x01,
        "branches to 0x2004, but the plan's target is 0x2000")]

    // A32 ldr-pc 0x1000 -> Thumb 0x2001: literal 01 20 00 00; 01^01 = 00 clears bit 0, an A32 target instead of Thumb.
    [TestCase(InstructionSet.A32, "ldr-pc", 0x1000UL, 0x2001UL, PatchMode.Code, 4, 0x01,
        "the literal at 0x1004 holds 0x2000, but the plan's target is 0x2001")]

    // Thumb b.w 0x1000 -> 0x2001: disp 0x2000 - 0x1004 = 0xffc: S=0 I1=I2=0 so J1=J2=1, imm10=0, imm11=0x7fe:
    // f000 bffe = 00 f0 fe bf; byte 2 fe^01 = ff makes imm11 0x7ff: 0x1004 + 0xffe.
    [TestCase(InstructionSet.Thumb, "b.w", 0x1000UL, 0x2001UL, PatchMode.Code, 2, 0x01,
        "branches to 0x2002, but the plan's target is 0x2000")]

    // Thumb ldr.w-pc at 0x1002: Align(0x1006, 4) = 0x1004, literal at 0x1008, imm 4: df f8 04 f0; 04^04 = 00 reads 0x1004.
    [TestCase(InstructionSet.Thumb, "ldr.w-pc", 0x1002UL, 0x2001UL, PatchMode.Code, 2, 0x04,
        "loads its target from 0x1004, but the plan's literal is at 0x1008")]

    // arm64 b 0x1000001000 -> +0x40: imm26 = 0x10, word 14000010 = 10 00 00 14; 10^01 = 11: +0x44.
    [TestCase(InstructionSet.Arm64, "b", 0x10_0000_1000UL, 0x10_0000_1040UL, PatchMode.Code, 0, 0x01,
        "branches to 0x1000001044, but the plan's target is 0x1000001040")]

    // arm64 adrp-add-br, same page: add x16, x16, #0x40 = 91000210 | 0x40 << 10 = 91010210 = 10 02 01 91; byte 2 01^01 = 00.
    [TestCase(InstructionSet.Arm64, "adrp-add-br", 0x10_0000_1000UL, 0x10_0000_1040UL, PatchMode.Code, 6, 0x01,
        "computes 0x1000001000 + 0x0 = 0x1000001000, but the plan's target is 0x1000001040")]

    // arm64 ldr-br: literal at +8 = 00 00 00 00 07 00 00 00; byte 4 07^01 = 06.
    [TestCase(InstructionSet.Arm64, "ldr-br", 0x10_0000_1000UL, 0x7_0000_0000UL, PatchMode.Data, 12, 0x01,
        "the literal at 0x1000001008 holds 0x600000000, but the plan's target is 0x700000000")]
    public void OneChangedByteIsNamed(InstructionSet isa, string form, ulong slot, ulong target, PatchMode mode, int index, int xor, string expected)
    {
        var (plan, bytes) = Encode(isa, form, slot, target, mode);
        Assert.That(_disassembler.Check(plan, bytes).Agrees, Is.True, "the uncorrupted encoding must agree");

        bytes[index] ^= (byte)xor;
        var report = _disassembler.Check(plan, bytes);

        Assert.That(report.Agrees, Is.False, report.ToString());
        Assert.That(report.Problems, Has.Some.Contains(expected), report.ToString());
    }

    [Test]
    public void ThumbBranchToAnA32TargetIsAProblem()
    {
        // Encoded for the Thumb target 0x2001, then checked as if it were meant for the A32 address 0x2000: the address
        // matches, but b.w cannot leave Thumb state.
        var (plan, bytes) = Encode(InstructionSet.Thumb, "b.w", 0x1000, 0x2001, PatchMode.Code);
        var report = _disassembler.Check(plan with { Target = 0x2000 }, bytes);

        Assert.That(report.DecodedTarget, Is.EqualTo(0x2000UL));
        Assert.That(report.Problems, Has.Some.Contains("stays in Thumb state, but the target 0x2000 has bit 0 clear"), report.ToString());
    }

    [Test]
    public void A32BranchToAThumbTargetIsAProblem()
    {
        var (plan, bytes) = Encode(InstructionSet.A32, "b", 0x1000, 0x2000, PatchMode.Code);
        var report = _disassembler.Check(plan with { Target = 0x2001 }, bytes);

        Assert.That(report.Problems, Has.Some.Contains("stays in A32 state, but the target 0x2001 has bit 0 set"), report.ToString());
    }

    [Test]
    public void UndecodableInstructionBytesAreAProblem()
    {
        // 06 (push es) does not exist in 64-bit mode, so Capstone decodes nothing of e9's replacement.
        var (plan, bytes) = Encode(InstructionSet.Amd64, "rel32", 0x1000_0000, 0x1000_1000, PatchMode.Code);
        bytes[0] = 0x06;
        var report = _disassembler.Check(plan, bytes);

        Assert.That(report.DecodedTarget, Is.Null);
        Assert.That(report.Problems, Has.Some.Contains("Capstone decoded 0 of the 5 instruction bytes of amd64 rel32 at 0x10000000"), report.ToString());
        Assert.That(report.Instructions[0].Text, Is.EqualTo(".byte 0x06"));
    }

    [Test]
    public void WrongScratchRegisterIsAProblem()
    {
        // br x17 = d61f0000 | 17 << 5 = d61f0220, bytes 20 02 1f d6 in place of br x16.
        var (plan, bytes) = Encode(InstructionSet.Arm64, "ldr-br", 0x10_0000_1000, 0x7_0000_0000, PatchMode.Data);
        bytes[4] = 0x20;
        var report = _disassembler.Check(plan, bytes);

        Assert.That(report.Problems, Has.Some.Contains("is x17, not x16"), report.ToString());
    }

    [Test]
    public void ShortSlotIsRefused()
    {
        var (plan, bytes) = Encode(InstructionSet.Arm64, "ldr-br", 0x10_0000_1000, 0x7_0000_0000, PatchMode.Data);
        Assert.Throws<ArgumentException>(() => _disassembler.Check(plan, bytes.AsSpan(0, plan.Size - 1)));
    }

    private static (JumpPlan Plan, byte[] Bytes) Encode(InstructionSet isa, string form, ulong slot, ulong target, PatchMode mode)
    {
        var encoder = JumpEncoders.For(isa);
        var plan = encoder.Plan(encoder.Form(form), slot, target, mode);
        var bytes = new byte[plan.Size];
        encoder.Encode(plan, bytes);
        return (plan, bytes);
    }
}
