using System.Globalization;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// The test assembly run as a program (<c>dotnet HcrLab.Tests.dll ...</c>), for what must run in a process of its own:
/// the long stress run, and work that may crash the process (a module that faults at init, mutated libraries), whose
/// parent counts the crash instead of dying with it. <c>dotnet test</c> never calls this.
/// <code>
/// stress [--calls N] [--threads T] [--seconds S] [--retain G]   one line of figures (StressReport)
/// fuzz [--per-kind N] [--seed S]                   mutated libraries, each started in a child process: counts
/// fuzz ... --one-process [--start-only]             the same files all in this process (a death ends the run; the
///                                                   last "N phase" line on stderr says where)
/// crash-at-init [--no-guard]                        runs module "a", reloads it into a v2 that faults in Init000
/// crash-outside-guard                               starts module "a", then calls a proc of it that writes through NULL
/// misaligned-call                                   starts module "a", whose init calls the C ABI with a misaligned stack
/// load-each FILE...                                 starts each FILE as module "m" of a fresh runtime: one line each
/// die-holding-copies                                creates a runtime, prints its copy folder, and kills itself (SIGKILL)
/// fuzz ... --trial, load-each --trial ...           the same with HcrRuntimeOptions.Trial = Load (a child process loads
///                                                   each copy first)
/// fuzz ... --trial-start, load-each --trial-start ... the same with Trial = Start (and a child process runs the whole
///                                                   start first)
/// </code>
/// </summary>
internal static class ReliabilityMain
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: dotnet HcrLab.Tests.dll stress [--calls N] [--threads T] [--seconds S] [--retain G] | fuzz [--per-kind N] [--seed S] [--one-process [--start-only]] [--trial | --trial-start] | crash-at-init [--no-guard] | crash-outside-guard | misaligned-call | load-each FILE... | die-holding-copies");
            return 2;
        }

        ChildScenarios.Trial = args.Contains("--trial-start") ? ModuleTrial.Start : args.Contains("--trial") ? ModuleTrial.Load : ModuleTrial.None;
        args = [.. args.Where(a => a is not "--trial" and not "--trial-start")];
        switch (args[0])
        {
            case "stress":
                var options = new StressOptions(
                    Calls: Option(args, "--calls", 100_000_000),
                    Threads: (int)Option(args, "--threads", 2),
                    Duration: TimeSpan.FromSeconds(Option(args, "--seconds", 86_400)),
                    MaxRetainedGenerations: (int)Option(args, "--retain", 8));
                var report = StressRun.Run(options);
                Console.WriteLine(report);
                return report.WrongResults == 0 && report.BadCalls == 0 && report.RwxMappings == 0 ? 0 : 1;
            case "fuzz":
                byte[] original;
                using (var bench = new ModuleWorkbench())
                {
                    original = LibraryFuzz.Original(bench);
                }

                bool? oneProcess = args.Contains("--one-process") ? args.Contains("--start-only") : null;
                var fuzz = LibraryFuzz.Run(original, (int)Option(args, "--per-kind", 1000), (int)Option(args, "--seed", 1), TimeSpan.FromSeconds(2), oneProcess);
                Console.WriteLine(fuzz);
                fuzz.Untyped.ForEach(u => Console.WriteLine($"untyped: {u}"));
                return fuzz.Untyped.Count == 0 ? 0 : 1;
            case "crash-at-init":
                return ChildScenarios.CrashAtInit(containFaults: !args.Contains("--no-guard"));
            case "crash-outside-guard":
                return ChildScenarios.CrashOutsideGuard();
            case "misaligned-call":
                return ChildScenarios.MisalignedCall();
            case "load-each":
                return ChildScenarios.LoadEach(args[1..]);
            case "die-holding-copies":
                var runtime = HcrRuntime.Create(new HcrRuntimeOptions());
                Console.WriteLine(runtime.CopyDirectory);
                Console.Out.Flush();
                System.Diagnostics.Process.GetCurrentProcess().Kill();
                return 1;
            default:
                Console.Error.WriteLine($"unknown command '{args[0]}'");
                return 2;
        }
    }

    /// <summary>The command-line flag that asks for <paramref name="trial"/>.</summary>
    public static string[] TrialFlags(ModuleTrial trial) => trial switch
    {
        ModuleTrial.Load => ["--trial"],
        ModuleTrial.Start => ["--trial-start"],
        _ => [],
    };

    private static long Option(string[] args, string name, long fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? long.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
