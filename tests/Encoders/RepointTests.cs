using HcrLab.Encoders;

namespace HcrLab.Tests.Encoders;

/// <summary>
/// Re-pointing reports exactly the bytes that change and what the change needs. Expected bytes are derived by hand
/// from the manuals in the comments; the emulator tests prove the same plans execute.
/// </summary>
[Category("Encoders")]
public sealed class RepointTests
{
    [Test]
    public void Amd64CodeModeRel32RepointChangesOnlyTheDisplacementByteThatDiffers()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // E9 rel32, rel32 = target - (slot + 5): 0x2000 - 0x1005 = 0x0FFB → e9 fb 0f 00 00;
        // 0x3000 - 0x1005 = 0x1FFB → e9 fb 1f 00 00. Only byte +2 differs.
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Code);
        var next = encoder.PlanRepoint(first, 0x3000);

        Assert.Multiple(() =>
        {
            Assert.That(Hex(encoder, next), Is.EqualTo("e9fb1f0000"));
            Assert.That(next.Changed, Is.EqualTo(new ByteRange(2, 1)));
            Assert.That(next.ChangesInstructions, Is.True);
            Assert.That(next.NeedsCacheMaintenance, Is.False, "x86 keeps instruction caches coherent");
        });
    }

    [Test]
    public void Amd64CodeModeAbsoluteRepointChangesOnlyTheLiteral()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // FF 25 00000000 (jmp [rip+0]) then the 8-byte literal at +6: 0x7_0000_0000 → 00 00 00 00 07 00 00 00.
        // Re-pointed to 0x8_0000_0000 only literal byte 4 (slot offset +10) changes, 07 → 08.
        var first = encoder.Plan(0x1000, 0x7_0000_0000, PatchMode.Code);
        var next = encoder.PlanRepoint(first, 0x8_0000_0000);

        Assert.Multiple(() =>
        {
            Assert.That(first.Form.Name, Is.EqualTo("rip-indirect"));
            Assert.That(Hex(encoder, next), Is.EqualTo("ff25000000000000000008000000"));
            Assert.That(next.Changed, Is.EqualTo(new ByteRange(10, 1)));
            Assert.That(next.ChangesInstructions, Is.False);
        });
    }

    [Test]
    public void Arm64DataModeRepointTouchesOnlyTheAlignedLiteralAndNeedsNoCacheMaintenance()
    {
        var encoder = JumpEncoders.For(InstructionSet.Arm64);

        // LDR X16, #8: 0x58000000 | imm19(2) << 5 | 16 = 0x58000050 → 50 00 00 58; BR X16 = 0xD61F0200 → 00 02 1f d6;
        // literal at +8 (8-aligned): 0x2000 → 00 20 00 ..; re-pointed to 0x3000 only literal byte 1 (+9) changes.
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Data);
        var next = encoder.PlanRepoint(first, 0x3000);

        Assert.Multiple(() =>
        {
            Assert.That(Hex(encoder, first), Is.EqualTo("50000058" + "00021fd6" + "0020000000000000"));
            Assert.That(next.Changed, Is.EqualTo(new ByteRange(9, 1)));
            Assert.That(next.Literal, Is.EqualTo(new ByteRange(8, 8)));
            Assert.That(next.ChangesInstructions, Is.False);
            Assert.That(next.NeedsCacheMaintenance, Is.False);
        });
    }

    [Test]
    public void ThumbCodeModeRepointFromNarrowToWideBranchChangesAllFourBytesAndNeedsCacheMaintenance()
    {
        var encoder = JumpEncoders.For(InstructionSet.Thumb);

        // B.N (T2) 11100 imm11, imm11 = (0x1100 - (0x1000 + 4)) >> 1 = 0x7E → 0xE07E → 7e e0.
        // B.W (T4) to 0x101001: disp = 0x101000 - 0x1004 = 0xFFFFC; S=0, I1=bit23=0, I2=bit22=0 → J1=J2=1;
        // imm10 = disp>>12 & 0x3FF = 0x0FF, imm11 = disp>>1 & 0x7FF = 0x7FE;
        // hw1 = 0xF000 | 0x0FF = 0xF0FF, hw2 = 0x9000 | 1<<13 | 1<<11 | 0x7FE = 0xBFFE → ff f0 fe bf.
        var first = encoder.Plan(0x1000, 0x1101, PatchMode.Code);
        var next = encoder.PlanRepoint(first, 0x10_1001);

        Assert.Multiple(() =>
        {
            Assert.That(Hex(encoder, first), Is.EqualTo("7ee0"));
            Assert.That(Hex(encoder, next), Is.EqualTo("fff0febf"));
            Assert.That(next.Changed, Is.EqualTo(new ByteRange(0, 4)));
            Assert.That(next.NeedsCacheMaintenance, Is.True);
        });
    }

    [Test]
    public void RepointToTheSameTargetChangesNothing()
    {
        var encoder = JumpEncoders.For(InstructionSet.A32);
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Code);
        var next = encoder.PlanRepoint(first, 0x2000);

        Assert.Multiple(() =>
        {
            Assert.That(next.Changed.IsEmpty, Is.True);
            Assert.That(next.ChangesInstructions, Is.False);
            Assert.That(next.NeedsCacheMaintenance, Is.False);
        });
    }

    [Test]
    public void WriteAppliesOnlyTheChangedRange()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Code);
        var next = encoder.PlanRepoint(first, 0x3000);

        // A slot whose bytes outside the changed range are poisoned keeps them: Write touches byte +2 only.
        byte[] slot = [0xAA, 0xAA, 0xAA, 0xAA, 0xAA];
        encoder.Write(next, slot);

        Assert.That(Convert.ToHexStringLower(slot), Is.EqualTo("aaaa1faaaa"));
    }

    private static string Hex(IJumpEncoder encoder, in JumpPlan plan)
    {
        var bytes = new byte[plan.Size];
        encoder.Encode(plan, bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
