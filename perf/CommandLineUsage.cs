using System.CommandLine;
using System.CommandLine.Parsing;

namespace HcrLab.Perf;

/// <summary>
/// Runs a System.CommandLine command tree the way HcrLab's tools answer bad usage: each parse error as one line on
/// standard error, then a hint naming the command's --help, and exit status 2 (nothing on standard output, not the
/// whole help). Used by HcrLab.Perf and by the test assembly's reliability program.
/// </summary>
public static class CommandLineUsage
{
    public const int UsageError = 2;

    /// <summary>Parses <paramref name="args"/> and runs the chosen command's action; exceptions reach the caller.</summary>
    public static int Invoke(RootCommand root, string program, string[] args, TextWriter output, TextWriter error)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                error.WriteLine($"{program}: {parseError.Message}");
            }

            error.WriteLine($"hint: {string.Join(' ', [program, .. CommandPath(parsed.CommandResult), "--help"])}");
            return UsageError;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    /// <summary>The subcommand names from the root to <paramref name="result"/>, the root's own name left out.</summary>
    private static IEnumerable<string> CommandPath(CommandResult result) =>
        result.Parent is CommandResult parent ? [.. CommandPath(parent), result.Command.Name] : [];
}
