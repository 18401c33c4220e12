using System.Text.RegularExpressions;

namespace HcrLab.Tests.Cli;

/// <summary>
/// The README's <c>hcrlab</c> reference and the tool's own <c>--help</c> name the same options: every command the help
/// tree reaches has an entry in the reference, every option its help lists is in that entry, and every option an entry
/// names is one of its commands' options. A flag added, renamed or removed on one side only fails here.
/// </summary>
[TestFixture]
[Category("Cli")]
public sealed partial class ReadmeReferenceTests
{
    /// <summary>What System.CommandLine adds to every command; the README does not repeat them.</summary>
    private static readonly HashSet<string> Builtin = new(StringComparer.Ordinal) { "--help", "--version" };

    [Test]
    public void EveryOptionInHelpIsInTheReadmeAndTheReverse()
    {
        var commands = Commands([]).ToList();
        var entries = ReferenceEntries(File.ReadAllText(Path.Combine(Native.NativeToolchain.RepositoryRoot, "README.md")));
        Assert.That(commands, Has.Count.GreaterThanOrEqualTo(5), "verify, encode, report merge, scenario list, scenario run at least");

        var problems = new List<string>();
        foreach (string command in commands)
        {
            var documented = entries.Where(entry => entry.Commands.Contains(command)).ToList();
            if (documented.Count == 0)
            {
                problems.Add($"'hcrlab {command}' has no entry in the README's hcrlab reference");
                continue;
            }

            var inReadme = documented.SelectMany(entry => entry.Options).ToHashSet(StringComparer.Ordinal);
            problems.AddRange(HelpOptions(command).Except(inReadme).Select(option => $"'hcrlab {command} {option}' is in --help, not in the README"));
        }

        foreach (var entry in entries)
        {
            var inHelp = entry.Commands.Where(commands.Contains).SelectMany(HelpOptions).ToHashSet(StringComparer.Ordinal);
            problems.AddRange(entry.Options.Except(inHelp).Select(option =>
                $"the README's entry for 'hcrlab {string.Join(" / ", entry.Commands)}' names {option}, which its --help does not list"));
        }

        Assert.That(problems, Is.Empty);
    }

    /// <summary>The leaf commands under <paramref name="path"/>, from the help's "Commands:" lists, as "scenario run".</summary>
    private static IEnumerable<string> Commands(string[] path)
    {
        string[] sub = [.. Section(Help(path), "Commands:").Select(line => line.TrimStart().Split(' ')[0])];
        if (sub.Length == 0)
        {
            yield return string.Join(' ', path);
            yield break;
        }

        foreach (string name in sub)
        {
            foreach (string command in Commands([.. path, name]))
            {
                yield return command;
            }
        }
    }

    private static IEnumerable<string> HelpOptions(string command) =>
        Section(Help(command.Split(' ')), "Options:")
            .SelectMany(line => OptionName().Matches(line.Split("  ", StringSplitOptions.RemoveEmptyEntries)[0]).Select(match => match.Value))
            .Where(option => !Builtin.Contains(option));

    private static string Help(string[] path)
    {
        var run = CliRun.Of([.. path, "--help"]);
        Assert.That(run.ExitCode, Is.Zero, $"hcrlab {string.Join(' ', path)} --help: {run.Error}");
        return run.Output;
    }

    /// <summary>The indented lines under a heading of System.CommandLine's help, up to the next blank line.</summary>
    private static IEnumerable<string> Section(string help, string heading) =>
        help.ReplaceLineEndings("\n").Split('\n').SkipWhile(line => line != heading).Skip(1).TakeWhile(line => line.StartsWith(' '));

    /// <summary>
    /// The entries of the README's "`hcrlab` reference" section: a line of one or more `hcrlab COMMAND ...` spans, then
    /// its description (": ..." and indented lines, blank lines inside). The commands are the words before the first
    /// option or argument; the options every --name in the entry.
    /// </summary>
    private static List<(string[] Commands, HashSet<string> Options)> ReferenceEntries(string readme)
    {
        string section = readme[readme.IndexOf("## `hcrlab` reference", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var entries = new List<(string[], HashSet<string>)>();
        foreach (string block in EntryStart().Split(section).Skip(1))
        {
            string body = block[..(block.IndexOf("\n```", StringComparison.Ordinal) is int end and >= 0 ? end : block.Length)];
            string[] commands = [.. CommandSpan().Matches(body.Split('\n')[0]).Select(match =>
                string.Join(' ', match.Groups[1].Value.Split(' ').TakeWhile(word => Regex.IsMatch(word, "^[a-z]+$"))))];
            entries.Add((commands, OptionName().Matches(body).Select(match => match.Value).ToHashSet(StringComparer.Ordinal)));
        }

        Assert.That(entries, Is.Not.Empty, "the README's hcrlab reference has no `hcrlab ...` entries");
        return entries;
    }

    [GeneratedRegex(@"--[a-z][a-z-]*[a-z]")]
    private static partial Regex OptionName();

    /// <summary>An entry starts at a line that begins with `hcrlab.</summary>
    [GeneratedRegex(@"(?m)^(?=`hcrlab )")]
    private static partial Regex EntryStart();

    [GeneratedRegex(@"`hcrlab ([^`]*)`")]
    private static partial Regex CommandSpan();
}
