using CsCheck;
using HcrLab.Encoders;
using HcrLab.Lab.Verification;

namespace HcrLab.Tests.Lab;

/// <summary>
/// The lab's oracle states reach as the manuals do (immediate width, shift, PC bias) and solves a congruence; the
/// encoders state it as a displacement interval. The two must agree everywhere, most of all at the limits.
/// </summary>
[Category("Lab")]
public sealed class ReachOracleTests
{
    // Each expectation derived by hand: rel32 from slot 0x10 to 0xFFFFFFF0 is disp 0xFFFFFFF0 - 0x15 = -0x25 mod 2^32.
    [TestCase("i386", "rel32", 0x10UL, 0xFFFF_FFF0UL, true, TestName = "i386 rel32 wraps below 0")]
    [TestCase("i386", "rel8", 0x10UL, 0xFFFF_FFF0UL, true, TestName = "i386 rel8 wraps below 0 (disp -0x22)")]
    [TestCase("i386", "rel8", 0xFFFF_FFF0UL, 0x71UL, true, TestName = "i386 rel8 wraps above the top (disp 0x7F)")]
    [TestCase("i386", "rel8", 0xFFFF_FFF0UL, 0x72UL, false, TestName = "i386 rel8 one past the top wrap (disp 0x80)")]
    [TestCase("amd64", "rel32", 0x0UL, 0x8000_0004UL, true, TestName = "amd64 rel32 farthest forward: 5 + 0x7FFFFFFF")]
    [TestCase("amd64", "rel32", 0x0UL, 0x8000_0005UL, false, TestName = "amd64 rel32 one past forward")]
    [TestCase("amd64", "rel32", 0x8000_0000UL, 0x5UL, true, TestName = "amd64 rel32 farthest backward: -2^31")]
    [TestCase("amd64", "rel32", 0x8000_0000UL, 0x4UL, false, TestName = "amd64 rel32 one past backward")]
    [TestCase("arm", "b", 0x0UL, 0x200_0004UL, true, TestName = "A32 B farthest forward: 8 + 2^25 - 4")]
    [TestCase("arm", "b", 0x0UL, 0x200_0008UL, false, TestName = "A32 B one word past forward")]
    [TestCase("arm", "b", 0x1000UL, 0xFE00_1008UL, true, TestName = "A32 B farthest backward, wrapping below 0")]
    [TestCase("arm", "b", 0x1000UL, 0x2001UL, false, TestName = "A32 B cannot reach a Thumb target")]
    [TestCase("arm", "ldr-pc", 0x1000UL, 0xFFFF_F001UL, true, TestName = "A32 LDR PC reaches a Thumb target anywhere")]
    [TestCase("thumb", "b.n", 0x1000UL, 0x1803UL, true, TestName = "Thumb B.N farthest forward: 4 + 2046, Thumb bit set")]
    [TestCase("thumb", "b.n", 0x1000UL, 0x1805UL, false, TestName = "Thumb B.N one halfword past forward")]
    [TestCase("thumb", "b.w", 0x0UL, 0x100_0003UL, true, TestName = "Thumb B.W farthest forward: 4 + 2^24 - 2")]
    [TestCase("thumb", "b.w", 0x0UL, 0x100_0005UL, false, TestName = "Thumb B.W one halfword past forward")]
    [TestCase("arm64", "b", 0x800_0000UL, 0x0UL, true, TestName = "arm64 B farthest backward: -2^27")]
    [TestCase("arm64", "b", 0x800_0004UL, 0x0UL, false, TestName = "arm64 B one word past backward")]
    [TestCase("arm64", "adrp-add-br", 0x1_0000_0000UL, 0x1_FFFF_FFFCUL, true, TestName = "arm64 ADRP last reachable page, last word")]
    [TestCase("arm64", "adrp-add-br", 0x1_0000_0FFCUL, 0x2_0000_0000UL, false, TestName = "arm64 ADRP first unreachable page")]
    [TestCase("arm64", "adrp-add-br", 0x1_0000_0000UL, 0x0UL, true, TestName = "arm64 ADRP farthest backward page")]
    public void OracleMatchesHandDerivedReach(string arch, string form, ulong slot, ulong target, bool reaches)
    {
        Assert.That(ReachOracle.Reaches(InstructionSetNames.Parse(arch), form, slot, target), Is.EqualTo(reaches));
    }

    [TestCaseSource(typeof(FormCases), nameof(FormCases.Relative))]
    public void EncoderReachAgreesWithTheOracleNearEveryLimit(InstructionSet isa, string formName)
    {
        var encoder = JumpEncoders.For(isa);
        var form = encoder.Form(formName);
        var facts = encoder.Facts;
        ulong mask = facts.AddressBits == 64 ? ulong.MaxValue : 0xFFFF_FFFF;

        // Offsets cluster on the form's own limits (±a few steps) and on powers of two; slots anywhere.
        var offset = Gen.Frequency(
            (3, Gen.Select(Gen.Bool, Gen.Int[-4, 4], (up, steps) => (up ? form.MaxDisplacement : form.MinDisplacement) + form.PcBias + (steps * form.Granularity))),
            (1, Gen.Select(Gen.Int[0, facts.AddressBits - 1], Gen.Int[-8, 8], (bit, jitter) => (1L << bit) + jitter)),
            (1, Gen.Long));
        var slotGen = Gen.ULong.Select(s => s & mask & ~(ulong)(facts.InstructionAlignment - 1));
        var thumb = Gen.Bool;

        Gen.Select(slotGen, offset, thumb).Sample(
            (slot, delta, thumbTarget) =>
            {
                ulong target = (slot + (ulong)delta) & mask;
                target = facts.HasThumbBit ? (thumbTarget ? target | 1 : target & ~3UL) : target & ~(ulong)(facts.TargetAlignment - 1);
                bool encoderSays = encoder.TryPlan(form, slot, target, PatchMode.Code, out _, out var refusal)
                    || refusal!.Reason == UnencodableReason.BeyondAddressSpace;
                return encoderSays == ReachOracle.Reaches(isa, formName, slot, target);
            },
            iter: 20_000,
            threads: 1,
            print: t => $"slot=0x{t.Item1:X} delta={t.Item2} thumb={t.Item3}");
    }
}
