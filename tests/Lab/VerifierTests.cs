using HcrLab.Encoders;
using HcrLab.Lab.Verification;

namespace HcrLab.Tests.Lab;

/// <summary>The verifier's random phase runs and tallies per CPU × form; a failure there carries a replay seed.</summary>
[Category("Emulation")]
public sealed class VerifierTests
{
    [Test]
    public void MatrixAndRandomCasesOfEveryCpuPass()
    {
        var report = Verifier.Run(new VerifyOptions(InstructionSetNames.All, RandomCases: 1000, Seed: null));

        Assert.Multiple(() =>
        {
            Assert.That(report.AllPassed, Is.True, string.Join("\n", report.Failures.Select(f => $"{f.Case}: {f.Failure}")));
            Assert.That(report.Rows.Sum(r => r.Random), Is.EqualTo(1000));
            Assert.That(report.Rows.Select(r => r.Isa).Distinct(), Is.EquivalentTo(InstructionSetNames.All));
            foreach (var encoder in JumpEncoders.All)
            {
                foreach (var form in encoder.Forms)
                {
                    Assert.That(report.Rows.Any(r => r.Isa == encoder.Facts.Isa && r.Form == form.Name && r.Passed > 0), Is.True, form.ToString());
                }
            }
        });
    }
}
