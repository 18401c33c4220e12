using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace HcrLab.Lab.Cli;

/// <summary>
/// The <c>hcrlab</c> command line. Exit codes: 0 success, 1 a check failed or an input cannot be encoded, 2 bad usage
/// (including standard input or output that cannot be read or written), 3 a native library is missing.
/// </summary>
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
            ScenarioCommand.Create(input),
            ReportCommand.Create(),
        };

        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            return ReportUsageError(parsed, error);
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Unwrap(e) is IOException or UnauthorizedAccessException)
        {
            // Standard input a directory, standard output closed or full (or any other file that fails mid-run): one
            // line, not a trace. The line itself may not get out if standard error is broken too.
            // A closed descriptor comes as "Access to the path is denied" around the system's own "Bad file descriptor".
            var failure = Unwrap(e);
            string reason = failure is UnauthorizedAccessException { InnerException: IOException inner } ? inner.Message : failure.Message;
            return Report(error, $"hcrlab: input or output failed: {reason}", UsageError);
        }
        catch (Exception e)
        {
            // What System.CommandLine's own handler did for any other exception: the trace, and exit code 1.
            return Report(error, $"Unhandled exception: {e}", CheckFailed);
        }
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
        return Report(error, $"{path}: {message}{Environment.NewLine}Try '{path} --help' for more information.", UsageError);
    }

    private static int Report(TextWriter error, string message, int exitCode)
    {
        try
        {
            error.WriteLine(message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nowhere left to say it.
        }

        return exitCode;
    }

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions: [var inner] } ? Unwrap(inner) : e;
}
