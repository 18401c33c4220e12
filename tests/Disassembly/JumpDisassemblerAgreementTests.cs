using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;
using NUnit.Framework;

namespace HcrLab.Tests.Disassembly;

/// <summary>
/// Every form of every instruction set, encoded by the real encoders near and at both exact ends of its reach (and, on
/// ARM, into each state the form can enter), must decode in Capstone (and on x86 in Iced) to the plan's target.
/// </summary>
[TestFixture]
[Category("Disassembly")]
public sealed class JumpDisassemblerAgreementTests
{
    private JumpDisassembler _disassembler = null!;

    [OneTimeSetUp]
    public void CreateDisassembler() => _disassembler = new JumpDisassembler();

    [OneTimeTearDown]
    public void DisposeDisassembler() => _disassembler.Dispose();

    public static IEnumerable<TestCaseData> Cases() => DisassemblyCases.All().Select(c => new TestCaseData(c).SetName(c.ToString()));

    [TestCaseSource(nameof(Cases))]
    public void DecodedTargetIsThePlansTarget(DisassemblyCase testCase)
    {
        var encoder = JumpEncoders.For(testCase.Isa);
        var plan = encoder.Plan(encoder.Form(testCase.Form), testCase.Slot, testCase.Target, testCase.Mode);
        var bytes = new byte[plan.Size];
        encoder.Encode(plan, bytes);

        var report = _disassembler.Check(plan, bytes);

        Assert.That(report.Problems, Is.Empty, report.ToString());
        Assert.That(report.Agrees, Is.True);

        // Relative ARM branches encode an even address (the state is implied); a literal keeps bit 0 as stored.
        ulong expected = plan.Form.IsRelative && encoder.Facts.HasThumbBit ? testCase.Target & ~1UL : testCase.Target;
        Assert.That(report.DecodedTarget, Is.EqualTo(expected), report.ToString());
        Assert.That(report.Instructions[0].Address, Is.EqualTo(testCase.Slot));
        if (plan.Form.HasLiteral)
        {
            Assert.That(report.Instructions[^1].Address, Is.EqualTo(plan.LiteralAddress), report.ToString());
        }
    }
}
