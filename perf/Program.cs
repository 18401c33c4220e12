using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using BenchmarkDotNet.Running;
using HcrLab.Perf.Infrastructure;
using HcrLab.Perf.Reporting;

namespace HcrLab.Perf;

/// <summary>
/// HcrLab.Perf: the benchmark suites and the commands that track them (perf/README.md); <c>--help</c> on any command
/// describes it. Exit codes: 0 success, 1 a failure (or, for compare, a regression), 2 bad usage.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Commands(output);
        try
        {
            // bench hands everything, --help included, to BenchmarkDotNet's own parser (it lists its options).
            return args is ["bench", .. var options] ? Bench(options) : CommandLineUsage.Invoke(root, "HcrLab.Perf", args, output, error);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or System.Text.Json.JsonException)
        {
            error.WriteLine($"HcrLab.Perf {args[0]}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Every command, as --help lists them (a test holds perf/README.md to the same list).</summary>
    public static RootCommand Commands(TextWriter output)
    {
        return new RootCommand("HcrLab.Perf: the benchmark suites of the HcrLab runtime, encoders and lab, and the commands that track them "
            + "(perf/run runs the short job, the C anchor, the summary and the plots; see perf/README.md).")
        {
            BenchCommand(),
            PathCommand("anchor", "Run the C anchor workload (perf/nim/hcrbench.c) against HcrLab's runtime and write JSON lines.",
                (Path("LIBHCRBENCH", "libhcrbench.so, built by perf/nim/build.sh"), Path("OUT", "the JSON-lines file to write")),
                (library, file) => AnchorRunner.Run(library, file)),
            PathCommand("footprint", "Write the table bytes kept per symbol at N = 100,000 as JSON.", Path("OUT", "the JSON file to write"), Footprint.Run),
            PathCommand("summary", "Write DIR/summary.md from a run's BenchmarkDotNet JSON and the C anchor's figures.", Path("DIR", "a run directory, perf/results/<date>"), SummaryWriter.Run),
            CompareCommand(output),
            PathCommand("plot", "Draw the history charts of every run under RESULTS into RESULTS/plots, with an overview page.", Path("RESULTS", "perf/results"), HistoryPlot.Run),
        };
    }

    /// <summary><c>bench</c>: BenchmarkSwitcher with every option BenchmarkDotNet knows, passed through untouched (listed here for the help).</summary>
    private static Command BenchCommand()
    {
        var command = new Command("bench", "Run the suites with BenchmarkDotNet; every further option is BenchmarkDotNet's (e.g. --job short --filter '*Reload*', --list flat).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(parsed => Bench([.. parsed.UnmatchedTokens]));
        return command;
    }

    private static int Bench(string[] options)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(options, PerfConfig.Create());
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static Command CompareCommand(TextWriter output)
    {
        var old = Path("OLD", "the earlier run: a result directory or a BenchmarkDotNet JSON report");
        var @new = Path("NEW", "the later run, the same way");
        var threshold = new Option<double>("--threshold")
        {
            Description = "The smallest change that counts, in percent of the old time (10 or 10%).",
            DefaultValueFactory = _ => 10,
            CustomParser = result => Number(result, result.Tokens.Single().Value.TrimEnd('%')),
        };
        var alpha = new Option<double>("--alpha")
        {
            Description = "The significance level of the test on the iterations (Mann–Whitney, via Perfolizer).",
            DefaultValueFactory = _ => 0.05,
            CustomParser = result => Number(result, result.Tokens.Single().Value),
        };
        alpha.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is <= 0 or >= 1)
            {
                result.AddError("--alpha must lie strictly between 0 and 1");
            }
        });
        var command = new Command("compare", "List every benchmark of NEW beside OLD, flag those significantly slower by more than the threshold; exit status 1 when any is.")
        {
            old, @new, threshold, alpha,
        };
        command.SetAction(parsed => Comparer.Run(parsed.GetValue(old)!, parsed.GetValue(@new)!, parsed.GetValue(threshold), parsed.GetValue(alpha), output));
        return command;
    }

    private static Argument<string> Path(string name, string description) => new(name) { Description = description };

    private static Command PathCommand(string name, string description, Argument<string> argument, Func<string, int> action)
    {
        var command = new Command(name, description) { argument };
        command.SetAction(parsed => action(parsed.GetValue(argument)!));
        return command;
    }

    private static Command PathCommand(string name, string description, (Argument<string> First, Argument<string> Second) arguments, Func<string, string, int> action)
    {
        var command = new Command(name, description) { arguments.First, arguments.Second };
        command.SetAction(parsed => action(parsed.GetValue(arguments.First)!, parsed.GetValue(arguments.Second)!));
        return command;
    }

    private static double Number(ArgumentResult result, string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            return value;
        }

        result.AddError($"'{result.Tokens.Single().Value}' is not a number");
        return 0;
    }
}
