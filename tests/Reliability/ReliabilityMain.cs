using System.CommandLine;
using HcrLab.Perf;
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
/// Parsed with System.CommandLine: <c>--help</c> on any command; a usage error exits 2 with one line and a hint.
/// </summary>
internal static class ReliabilityMain
{
    private const string Program = "dotnet HcrLab.Tests.dll";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("The HcrLab test assembly as a program: the reliability runs that need a process of their own.")
        {
            Stress(output),
            Fuzz(output),
            CrashAtInit(),
            Scenario("crash-outside-guard", "Start module \"a\", then call a proc of it that writes through NULL.", ChildScenarios.CrashOutsideGuard),
            Scenario("misaligned-call", "Start module \"a\", whose init calls the C ABI with a misaligned stack.", ChildScenarios.MisalignedCall),
            LoadEach(),
            Scenario("die-holding-copies", "Create a runtime, print its copy folder, and kill this process with SIGKILL (a host that dies holding copies).", DieHoldingCopies),
        };
        return CommandLineUsage.Invoke(root, Program, args, output, error);
    }

    /// <summary>The command-line flag that asks for <paramref name="trial"/>.</summary>
    public static string[] TrialFlags(ModuleTrial trial) => trial switch
    {
        ModuleTrial.Load => ["--trial"],
        ModuleTrial.Start => ["--trial-start"],
        _ => [],
    };

    private static Command Stress(TextWriter output)
    {
        var calls = Number<long>("--calls", "Calls through the slots in all, across the threads.", 100_000_000);
        var threads = Number<int>("--threads", "Calling threads.", 2);
        var seconds = Number<long>("--seconds", "Stop after this many seconds even if calls remain.", 86_400);
        var retain = Number<int>("--retain", "HcrRuntimeOptions.MaxRetainedGenerations.", 8);
        var command = new Command("stress", "Call through slots from several threads while modules reload; one line of figures (StressReport).")
        {
            calls, threads, seconds, retain,
        };
        command.SetAction(parsed =>
        {
            var report = StressRun.Run(new StressOptions(
                Calls: parsed.GetValue(calls),
                Threads: parsed.GetValue(threads),
                Duration: TimeSpan.FromSeconds(parsed.GetValue(seconds)),
                MaxRetainedGenerations: parsed.GetValue(retain)));
            output.WriteLine(report);
            return report.WrongResults == 0 && report.BadCalls == 0 && report.RwxMappings == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Fuzz(TextWriter output)
    {
        var perKind = Number<int>("--per-kind", "Mutated libraries per kind of mutation.", 1000);
        var seed = Number<int>("--seed", "The seed of the mutations (a run is replayed by its seed).", 1);
        var oneProcess = new Option<bool>("--one-process") { Description = "Load every file in this process (a death ends the run; the last \"N phase\" line on stderr says where)." };
        var startOnly = new Option<bool>("--start-only") { Description = "With --one-process: start each file, without the reload." };
        var (trial, trialStart) = TrialOptions();
        var command = new Command("fuzz", "Mutated libraries, each started in a child process; prints the counts of each outcome.")
        {
            perKind, seed, oneProcess, startOnly, trial, trialStart,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(startOnly) && !result.GetValue(oneProcess))
            {
                result.AddError("--start-only needs --one-process");
            }
        });
        AddTrialCheck(command, trial, trialStart);
        command.SetAction(parsed =>
        {
            ChildScenarios.Trial = Trial(parsed, trial, trialStart);
            byte[] original;
            using (var bench = new ModuleWorkbench())
            {
                original = LibraryFuzz.Original(bench);
            }

            bool? inProcess = parsed.GetValue(oneProcess) ? parsed.GetValue(startOnly) : null;
            var fuzz = LibraryFuzz.Run(original, parsed.GetValue(perKind), parsed.GetValue(seed), TimeSpan.FromSeconds(2), inProcess);
            output.WriteLine(fuzz);
            fuzz.Untyped.ForEach(u => output.WriteLine($"untyped: {u}"));
            return fuzz.Untyped.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command LoadEach()
    {
        var files = new Argument<string[]>("FILE") { Description = "Libraries to start, each as module \"m\" of a fresh runtime.", Arity = ArgumentArity.OneOrMore };
        var (trial, trialStart) = TrialOptions();
        var command = new Command("load-each", "Start each FILE as module \"m\" of a fresh runtime: one line each.") { files, trial, trialStart };
        AddTrialCheck(command, trial, trialStart);
        command.SetAction(parsed =>
        {
            ChildScenarios.Trial = Trial(parsed, trial, trialStart);
            return ChildScenarios.LoadEach(parsed.GetValue(files)!);
        });
        return command;
    }

    private static Command CrashAtInit()
    {
        var noGuard = new Option<bool>("--no-guard") { Description = "Without the fault guard: the fault ends the process." };
        var command = new Command("crash-at-init", "Run module \"a\", then reload it into a v2 that faults in Init000.") { noGuard };
        command.SetAction(parsed => ChildScenarios.CrashAtInit(containFaults: !parsed.GetValue(noGuard)));
        return command;
    }

    /// <summary>A host that dies holding its copies: the next start must remove its copy folder.</summary>
    private static int DieHoldingCopies()
    {
        var runtime = HcrRuntime.Create(new HcrRuntimeOptions());
        Console.WriteLine(runtime.CopyDirectory);
        Console.Out.Flush();
        System.Diagnostics.Process.GetCurrentProcess().Kill();
        return 1;
    }

    private static Command Scenario(string name, string description, Func<int> run)
    {
        var command = new Command(name, description);
        command.SetAction(_ => run());
        return command;
    }

    private static Option<T> Number<T>(string name, string description, T fallback) =>
        new(name) { Description = description, DefaultValueFactory = _ => fallback };

    private static (Option<bool> Trial, Option<bool> TrialStart) TrialOptions() =>
        (new Option<bool>("--trial") { Description = "HcrRuntimeOptions.Trial = Load: a child process loads each copy first." },
         new Option<bool>("--trial-start") { Description = "HcrRuntimeOptions.Trial = Start: that, and a child process runs the whole start first." });

    private static void AddTrialCheck(Command command, Option<bool> trial, Option<bool> trialStart) =>
        command.Validators.Add(result =>
        {
            if (result.GetValue(trial) && result.GetValue(trialStart))
            {
                result.AddError("--trial and --trial-start exclude each other");
            }
        });

    private static ModuleTrial Trial(ParseResult parsed, Option<bool> trial, Option<bool> trialStart) =>
        parsed.GetValue(trialStart) ? ModuleTrial.Start : parsed.GetValue(trial) ? ModuleTrial.Load : ModuleTrial.None;
}
