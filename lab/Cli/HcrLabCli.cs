using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace HcrLab.Lab.Cli;

/// <summary>The <c>hcrlab</c> command line. Exit codes: 0 success, 1 a check failed or an input cannot be encoded, 2 bad usage, 3 a native library is missing.</summary>
public static class HcrLabCli
{
    public const int Success = 0;
    public const int CheckFailed = 1;
    public const int UsageError = 2;
    public const int MissingLibrary = 3;

    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var root = new RootCommand(
            "HcrLab: jump encoders for i386, amd64, arm (A32 and Thumb-2) and arm64, proven by running them in Unicorn-emulated CPUs "
            + "and decoding them with Capstone and Iced; and reload scenarios run against the hot code reloading runtime.")
        {
            VerifyCommand.Create(),
            EncodeCommand.Create(input),
            DecodeCommand.Create(),
            ScenarioCommand.Create(),
            ReportCommand.Create(),
        };

        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            return ReportUsageError(parsed, error);
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>
    /// A parse error, as the README promises: exit code 2, the first problem on one line of standard error and a hint
    /// where the help is (System.CommandLine's own handling prints the whole help on standard output and exits with 1).
    /// </summary>
    private static int ReportUsageError(ParseResult parsed, TextWriter error)
    {
        var names = new List<string>();
        for (SymbolResult? result = parsed.CommandResult; result is CommandResult command; result = command.Parent)
        {
            names.Insert(0, command.Command.Name);
        }

        names[0] = "hcrlab";
        string path = string.Join(' ', names);
        // Some messages list choices on lines of their own ("Must be one of:\n\t'text'\n\t'hex'"): one line, as promised.
        // A word the parser did not know is the likelier mistake than what it then misses ("hcrlab frobnicate").
        var first = parsed.UnmatchedTokens is [var unmatched, ..]
            ? parsed.Errors.FirstOrDefault(e => e.Message.Contains($"'{unmatched}'", StringComparison.Ordinal)) ?? parsed.Errors[0]
            : parsed.Errors[0];
        string message = string.Join(' ', first.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        error.WriteLine($"{path}: {message}");
        error.WriteLine($"Try '{path} --help' for more information.");
        return UsageError;
    }
}
