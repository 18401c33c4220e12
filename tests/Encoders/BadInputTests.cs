using HcrLab.Encoders;

namespace HcrLab.Tests.Encoders;

/// <summary>Every input no form can encode is a typed refusal with its reason, never bytes.</summary>
[Category("Encoders")]
public sealed class BadInputTests
{
    [TestCase("arm64", 0x1000UL, 0x2002UL, "code", UnencodableReason.TargetMisaligned, TestName = "arm64 target not 4-aligned")]
    [TestCase("arm64", 0x1000UL, 0x2001UL, "data", UnencodableReason.TargetMisaligned, TestName = "arm64 odd target, data mode")]
    [TestCase("arm64", 0x1002UL, 0x2000UL, "code", UnencodableReason.SlotMisaligned, TestName = "arm64 slot not 4-aligned")]
    [TestCase("arm", 0x1000UL, 0x2002UL, "code", UnencodableReason.TargetMisaligned, TestName = "A32 target (bit 0 clear) not word-aligned")]
    [TestCase("thumb", 0x1000UL, 0x2002UL, "code", UnencodableReason.TargetMisaligned, TestName = "Thumb slot to an A32 target not word-aligned")]
    [TestCase("arm", 0x1002UL, 0x2000UL, "code", UnencodableReason.SlotMisaligned, TestName = "A32 slot not word-aligned")]
    [TestCase("thumb", 0x1001UL, 0x2001UL, "code", UnencodableReason.SlotMisaligned, TestName = "Thumb slot odd")]
    [TestCase("i386", 0x1000UL, 0x1_0000_0000UL, "code", UnencodableReason.BeyondAddressSpace, TestName = "i386 target beyond 4 GiB")]
    [TestCase("arm", 0x1_0000_0000UL, 0x2000UL, "data", UnencodableReason.BeyondAddressSpace, TestName = "arm slot beyond 4 GiB")]
    [TestCase("i386", 0xFFFF_FFFCUL, 0x2000UL, "code", UnencodableReason.BeyondAddressSpace, TestName = "i386 rel32 running past the top of 4 GiB")]
    [TestCase("amd64", 0xFFFF_FFFF_FFFF_FFF8UL, 0x7_0000_0000UL, "code", UnencodableReason.BeyondAddressSpace, TestName = "amd64 absolute form past the top of 2^64")]
    public void UnencodablePairIsRefusedWithItsReason(string arch, ulong slot, ulong target, string mode, UnencodableReason reason)
    {
        var encoder = JumpEncoders.For(InstructionSetNames.Parse(arch));
        var patchMode = mode == "data" ? PatchMode.Data : PatchMode.Code;

        var refusal = Assert.Throws<UnencodableJumpException>(() => encoder.Plan(slot, target, patchMode));

        Assert.Multiple(() =>
        {
            Assert.That(refusal!.Reason, Is.EqualTo(reason));
            Assert.That(refusal.Slot, Is.EqualTo(slot));
            Assert.That(refusal.Target, Is.EqualTo(target));
            Assert.That(refusal.Message, Does.Contain($"0x{target:X}"));
        });
    }

    [TestCase("i386", "rel8", 0x1000UL, 0x1082UL, "code", UnencodableReason.OutOfReach, TestName = "rel8 one byte past its farthest forward target")]
    [TestCase("arm", "b", 0x1000UL, 0x2001UL, "code", UnencodableReason.WrongTargetState, TestName = "A32 B cannot enter Thumb state")]
    [TestCase("thumb", "b.w", 0x1000UL, 0x2000UL, "code", UnencodableReason.WrongTargetState, TestName = "Thumb B.W cannot enter A32 state")]
    [TestCase("amd64", "rel32", 0x1000UL, 0x2000UL, "data", UnencodableReason.NotADataForm, TestName = "a relative form has no literal for data mode")]
    [TestCase("arm64", "b", 0x0UL, 0x800_0000UL, "code", UnencodableReason.OutOfReach, TestName = "arm64 B at 128 MiB, one word past its reach")]
    public void ForcedFormRefusesWhatItCannotEncode(string arch, string form, ulong slot, ulong target, string mode, UnencodableReason reason)
    {
        var encoder = JumpEncoders.For(InstructionSetNames.Parse(arch));
        var patchMode = mode == "data" ? PatchMode.Data : PatchMode.Code;

        var refusal = Assert.Throws<UnencodableJumpException>(() => encoder.Plan(encoder.Form(form), slot, target, patchMode));

        Assert.Multiple(() =>
        {
            Assert.That(refusal!.Reason, Is.EqualTo(reason));
            Assert.That(refusal.Form, Is.EqualTo(form));
        });
    }

    [Test]
    public void WritingIntoTooFewBytesIsRefused()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);
        var plan = encoder.Plan(0x1000, 0x2000, PatchMode.Code);

        var refusal = Assert.Throws<SlotTooSmallException>(() => encoder.Encode(plan, new byte[4]));

        Assert.Multiple(() =>
        {
            Assert.That(refusal!.Needed, Is.EqualTo(5));
            Assert.That(refusal.Available, Is.EqualTo(4));
        });
    }

    [Test]
    public void UnknownFormNameListsTheFormsThatExist()
    {
        var encoder = JumpEncoders.For(InstructionSet.Arm64);

        var error = Assert.Throws<ArgumentException>(() => encoder.Form("bl"));

        Assert.That(error!.Message, Does.StartWith("arm64 has no form 'bl'; its forms are b, adrp-add-br, ldr-br"));
    }

    [Test]
    public void UnknownArchitectureNameIsAnError()
    {
        var error = Assert.Throws<ArgumentException>(() => InstructionSetNames.Parse("mips"));

        Assert.That(error!.Message, Does.StartWith("unknown architecture 'mips'; expected one of i386, amd64, arm, thumb, arm64"));
    }
}
