using HcrLab.Encoders;
using HcrLab.Lab.Verification;

namespace HcrLab.Tests.Lab;

/// <summary>The fixed matrix probes what the issue asks of it: every form at its limits, in every mode, state and alignment.</summary>
[Category("Lab")]
public sealed class CaseMatrixTests
{
    private static bool NothingReserved(ulong address, int length) => false;

    [TestCaseSource(typeof(FormCases), nameof(FormCases.Relative))]
    public void EveryRelativeFormIsProbedAtBothLimitsAndOnePastEach(InstructionSet isa, string form)
    {
        var cases = CaseMatrix.For(isa, NothingReserved).Where(c => c.Form == form).ToList();
        var distances = cases.Select(c => c.Distance).ToHashSet();

        Assert.That(distances, Is.SupersetOf(new[] { "near+", "near-", "farthest+", "farthest-", "past+", "past-" }));
    }

    [Test]
    public void FarthestAndPastCasesStraddleTheReachExactly()
    {
        // For A32 B at slot 0x40000000: farthest+ = slot + 8 + 2^25 - 4 must be encodable by B and past+ (one word more) not.
        var cases = CaseMatrix.For(InstructionSet.A32, NothingReserved)
            .Where(c => c.Form == "b" && c.Mode == PatchMode.Code && c.Slot == 0x4000_0000 && (c.Target & 1) == 0)
            .ToDictionary(c => c.Distance, c => c);

        Assert.Multiple(() =>
        {
            Assert.That(cases["farthest+"].Target, Is.EqualTo(0x4000_0000UL + 8 + 0x200_0000 - 4));
            Assert.That(cases["past+"].Target, Is.EqualTo(0x4000_0000UL + 8 + 0x200_0000));
            Assert.That(cases["farthest-"].Target, Is.EqualTo(0x4000_0000UL + 8 - 0x200_0000));
            Assert.That(cases["past-"].Target, Is.EqualTo(0x4000_0000UL + 8 - 0x200_0000 - 4));
            Assert.That(cases["farthest+"].Expected, Is.EqualTo(((string?)"b", (UnencodableReason?)null)));
            Assert.That(cases["past+"].Expected, Is.EqualTo(((string?)null, (UnencodableReason?)UnencodableReason.OutOfReach)));
        });
    }

    [TestCase("i386")]
    [TestCase("amd64")]
    [TestCase("arm")]
    [TestCase("thumb")]
    [TestCase("arm64")]
    public void MatrixCoversBothModesEveryFormAndBadInputs(string arch)
    {
        var isa = InstructionSetNames.Parse(arch);
        var cases = CaseMatrix.For(isa, NothingReserved);
        var encoder = JumpEncoders.For(isa);

        Assert.Multiple(() =>
        {
            foreach (var form in encoder.Forms)
            {
                Assert.That(cases.Any(c => c.Form == form.Name && c.Expected.Refusal is null), Is.True, $"{form.Name} encodes somewhere");
            }

            Assert.That(cases.Any(c => c.Form is null && c.Mode == PatchMode.Data), Is.True, "data mode, encoder's choice");
            Assert.That(cases.Count(c => c.Expected.Refusal is not null), Is.GreaterThan(5), "bad inputs and out-of-reach cases");
            if (encoder.Facts.AddressBits == 32)
            {
                Assert.That(cases.Any(c => c.Distance.StartsWith("wrap", StringComparison.Ordinal) && c.Expected.Refusal is null), Is.True);
            }
            else
            {
                Assert.That(cases.Any(c => c.Target >= 0x7_0000_0000 && c.Expected.Refusal is null), Is.True, "far beyond 4 GiB");
            }
        });
    }
}
