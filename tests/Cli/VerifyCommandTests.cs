using System.Text.Json;
using System.Text.RegularExpressions;
using HcrLab.Lab.Cli;

namespace HcrLab.Tests.Cli;

/// <summary><c>hcrlab verify</c> from the command line: a table, a totals line, JSON, exit codes.</summary>
[Category("Cli")]
public sealed partial class VerifyCommandTests
{
    [Test]
    public void VerifyOneCpuWritesTheTableTotalsAndJson()
    {
        string json = Path.Combine(Path.GetTempPath(), $"hcrlab-verify-{Guid.NewGuid():N}.json");
        try
        {
            var run = CliRun.Of("verify", "--arch", "arm64", "--random", "100", "--json", json);
            using var document = JsonDocument.Parse(File.ReadAllText(json));
            var root = document.RootElement;
            var rows = root.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("form").GetString()).ToList();

            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Output + run.Error);
                Assert.That(run.Output, Does.Contain("adrp-add-br"));
                Assert.That(run.OutputLines.Any(l => TotalsLine().IsMatch(l)), Is.True, run.Output);
                Assert.That(root.GetProperty("failed").GetInt32(), Is.Zero);
                Assert.That(root.GetProperty("passed").GetInt32(), Is.EqualTo(root.GetProperty("cases").GetInt32()));
                Assert.That(rows, Is.SupersetOf(new[] { "b", "adrp-add-br", "ldr-br" }));
            });
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Test]
    public void ArchitecturesAreParsedFromRepeatsAndCommas()
    {
        var isas = VerifyCommand.ParseArchitectures(["arm64,i386", "thumb", "arm64"]);

        Assert.That(isas.Select(i => i.ToString()), Is.EqualTo(new[] { "I386", "Thumb", "Arm64" }));
    }

    [Test]
    public void UnknownArchitectureIsAUsageError()
    {
        var run = CliRun.Of("verify", "--arch", "sparc");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo("hcrlab verify: unknown architecture 'sparc'; expected one of i386, amd64, arm, thumb, arm64"));
        });
    }

    [Test]
    public void HelpExplainsTheCommands()
    {
        var run = CliRun.Of("--help");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Error);
            Assert.That(run.Output, Does.Contain("verify"));
            Assert.That(run.Output, Does.Contain("encode"));
        });
    }

    [GeneratedRegex(@"^\d+ cases on 1 instruction sets in \d+\.\d s: \d+ passed, 0 failed$")]
    private static partial Regex TotalsLine();
}
