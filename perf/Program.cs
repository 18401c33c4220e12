using BenchmarkDotNet.Running;
using HcrLab.Perf.Infrastructure;
using HcrLab.Perf.Reporting;

namespace HcrLab.Perf;

/// <summary>
/// HcrLab.Perf: the benchmark suites and the commands that track them (perf/README.md).
/// <code>
/// HcrLab.Perf bench [BenchmarkDotNet options]         the suites (e.g. --job short --filter '*Reload*')
/// HcrLab.Perf anchor LIBHCRBENCH OUT                  the C anchor workload against HcrLab's runtime, JSON lines
/// HcrLab.Perf footprint OUT                           table bytes per symbol at N = 100,000, JSON
/// HcrLab.Perf summary DIR                             DIR/summary.md from the run's JSON and the anchor figures
/// HcrLab.Perf compare OLD NEW [--threshold PERCENT] [--alpha A]   benchmarks significantly slower by more than PERCENT (default 10)
/// HcrLab.Perf plot RESULTS                            history charts of every run under RESULTS, and their overview page
/// </code>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "help";
        string[] rest = args.Length > 0 ? args[1..] : [];
        try
        {
            return command switch
            {
                "bench" => Bench(rest),
                "anchor" when rest.Length == 2 => AnchorRunner.Run(rest[0], rest[1]),
                "footprint" when rest.Length == 1 => Footprint.Run(rest[0]),
                "summary" when rest.Length == 1 => SummaryWriter.Run(rest[0]),
                "compare" when rest.Length >= 2 => Comparer.Run(rest[0], rest[1], Option(rest[2..], "--threshold", 10), Option(rest[2..], "--alpha", 0.05), Console.Out),
                "plot" when rest.Length == 1 => HistoryPlot.Run(rest[0]),
                _ => Usage(),
            };
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"HcrLab.Perf {command}: {e.Message}");
            return 1;
        }
    }

    private static int Bench(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, PerfConfig.Create());
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static double Option(string[] options, string name, double fallback)
    {
        for (int i = 0; i < options.Length; i++)
        {
            if (options[i] == name && i + 1 < options.Length)
            {
                return double.Parse(options[i + 1].TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return fallback;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage: HcrLab.Perf bench [BenchmarkDotNet options]
                   HcrLab.Perf anchor LIBHCRBENCH OUT
                   HcrLab.Perf footprint OUT
                   HcrLab.Perf summary DIR
                   HcrLab.Perf compare OLD NEW [--threshold PERCENT] [--alpha A]
                   HcrLab.Perf plot RESULTS
            (perf/run runs the short job, the anchor, the summary and the plots; see perf/README.md)
            """);
        return 2;
    }
}
