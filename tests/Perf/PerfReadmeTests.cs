using System.CommandLine;
using System.Text.RegularExpressions;
using HcrLab.Tests.Native;

namespace HcrLab.Tests.Perf;

/// <summary>perf/README.md names every command and flag the perf tools accept, and no flag they do not (issue 16).</summary>
[Category("Perf")]
public sealed class PerfReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(NativeToolchain.RepositoryRoot, "perf", "README.md"));

    private static readonly RootCommand Perf = HcrLab.Perf.Program.Commands(TextWriter.Null);

    /// <summary>perf/run's flags, from the usage line of its header (what --help prints).</summary>
    private static readonly string[] RunFlags = [.. Regex.Matches(
            File.ReadLines(Path.Combine(NativeToolchain.RepositoryRoot, "perf", "run")).First(line => line.Contains("perf/run [", StringComparison.Ordinal)),
            @"--[a-z-]+").Select(m => m.Value)];

    [Test]
    public void EveryCommandAndOptionOfHcrLabPerfIsInTheReadme()
    {
        var names = Perf.Subcommands.SelectMany(c => new[] { $"`{c.Name}`" }
            .Concat(c.Options.Where(o => o.Name is not "--help" and not "-h" and not "-?" && !o.Name.StartsWith("--version", StringComparison.Ordinal)).Select(o => o.Name)));
        Assert.That(names.Where(name => !Readme.Contains(name, StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void EveryFlagOfPerfRunIsInTheReadmeAndTheReverse()
    {
        var inReadme = Regex.Matches(Readme, @"perf/run (--[a-z-]+)").Select(m => m.Groups[1].Value).Distinct();
        Assert.Multiple(() =>
        {
            Assert.That(RunFlags, Is.SupersetOf(new[] { "--filter", "--out", "--note", "--help" }));
            Assert.That(RunFlags.Where(flag => !Readme.Contains(flag, StringComparison.Ordinal)), Is.Empty, "flags the README does not mention");
            Assert.That(inReadme.Except(RunFlags), Is.Empty, "flags the README shows that perf/run does not take");
        });
    }

    [Test]
    public void EveryCompareFlagTheReadmeShowsExists()
    {
        var compare = Perf.Subcommands.Single(c => c.Name == "compare").Options.Select(o => o.Name);
        var shown = Regex.Matches(Readme, @"perf/compare [^\n#]*").SelectMany(line => Regex.Matches(line.Value, @"--[a-z-]+")).Select(m => m.Value).Distinct();
        Assert.That(shown.Except(compare), Is.Empty);
    }
}
