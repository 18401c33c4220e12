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

                // Every CPU has re-points that are safe while callers run (a literal change at least), each checked state
                // by state: at least the two prefixes of one store.
                var states = report.Rows.Where(r => r.Isa == encoder.Facts.Isa).Aggregate(default(StateCounts), (sum, r) => sum + r.States);
                Assert.That(states.Repoints, Is.GreaterThan(0), $"{encoder.Facts.Isa.ShortName()}: re-points checked state by state");
                Assert.That(states.States, Is.GreaterThanOrEqualTo(2 * states.Repoints), $"{encoder.Facts.Isa.ShortName()}: states");
            }

            Assert.That(report.States.Failed, Is.Zero);
        });
    }

    [Test]
    public void TheTextReportHasTheStateColumnsAndTheJsonRowsCarryThem()
    {
        var report = Verifier.Run(new VerifyOptions([InstructionSet.Arm64], RandomCases: 0, Seed: null));
        var output = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(output) });
        HcrLab.Lab.Cli.ReportWriter.WriteText(report, console);
        var ldrBr = HcrLab.Lab.Cli.ReportWriter.ToDocument(report).Rows.Single(r => r.Form == "ldr-br");

        Assert.Multiple(() =>
        {
            Assert.That(output.ToString(), Does.Contain("states").And.Contain("state fails").And.Contain("quiesced"));
            Assert.That(output.ToString(), Does.Contain("intermediate states: ").And.Contain(" 0 failed; "));

            // The matrix's ldr-br cases re-point literals in data mode: one aligned 8-byte store each, safe while callers run.
            Assert.That(ldrBr.Repoints, Is.GreaterThan(0));
            Assert.That(ldrBr.States, Is.GreaterThanOrEqualTo(2 * ldrBr.Repoints));
            Assert.That(ldrBr.StatesFailed, Is.Zero);
        });
    }
}
