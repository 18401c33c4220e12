using System.Text.RegularExpressions;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>How one mutated library ended when a fresh runtime started it.</summary>
internal enum FuzzOutcome
{
    /// <summary>Loaded, and <c>value(10)</c> answered 11 as the unmutated module does.</summary>
    Correct,

    /// <summary>Loaded and ran, but answered something else (the mutation changed code or data the runtime cannot judge).</summary>
    OtherAnswer,

    /// <summary>Refused with a <c>ModuleLoadException</c> (the stage is counted too).</summary>
    Refused,

    /// <summary>Loaded, and the host's call of <c>value(10)</c> faulted and was contained: a typed error (<c>ModuleFaultException</c>).</summary>
    CallFaulted,

    /// <summary>An exception that is not the runtime's typed error: a defect.</summary>
    Untyped,

    /// <summary>The process died (inside the loader or the module's init code).</summary>
    Crashed,

    /// <summary>Loaded; not called (the one-process, start-only run: only the runtime's own calls into module code ran).</summary>
    Started,

    /// <summary>No answer within the time limit; the child was killed.</summary>
    Hung,
}

/// <summary>What a fuzz run tried and how each try ended, per kind of mutation.</summary>
internal sealed class FuzzReport
{
    public Dictionary<(string Kind, FuzzOutcome Outcome), int> Counts { get; } = [];

    public Dictionary<string, int> RefusedByStage { get; } = [];

    /// <summary>
    /// Contained faults — refusals whose init or metadata call faulted, and faulted calls of the host's — by the function
    /// that faulted, the signal and where the PC was ("Init000 SIGSEGV in the module", "value(10) SIGILL in libc.so.6").
    /// </summary>
    public Dictionary<string, int> FaultsByFunction { get; } = [];

    public List<string> Untyped { get; } = [];

    /// <summary>Crashes by the phase the child had begun for that file: start (loader and init code), call (the host's call through the slot), unload.</summary>
    public Dictionary<string, int> CrashesByPhase { get; } = [];

    /// <summary>Crashes while a child handled a file that runs no code (refused before dlopen): counted against the last file the child loaded.</summary>
    public int DelayedCrashes { get; set; }

    /// <summary>Crashes counted against a file that did not crash when it ran again alone (layout-dependent).</summary>
    public int NotRepeatedAlone { get; set; }

    public int Total => Counts.Values.Sum();

    /// <summary>Set by a one-process run, which can only report at all when no file ended its process.</summary>
    public string? OneProcess { get; set; }

    public int Count(FuzzOutcome outcome, string? kind = null) =>
        Counts.Where(c => c.Key.Outcome == outcome && (kind is null || c.Key.Kind == kind)).Sum(c => c.Value);

    public override string ToString()
    {
        var kinds = Counts.Keys.Select(k => k.Kind).Distinct().ToList();
        var lines = kinds.Select(kind =>
            $"{kind,-14} " + string.Join(" ", Enum.GetValues<FuzzOutcome>().Select(o => $"{o.ToString().ToLowerInvariant()}={Counts.GetValueOrDefault((kind, o))}")));
        return string.Join("\n", lines)
            + $"\nrefused by stage: {string.Join(" ", RefusedByStage.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"))}"
            + $"\ncontained faults by function: {string.Join(", ", FaultsByFunction.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"))}"
            + $"\ncrashes by phase: {string.Join(" ", CrashesByPhase.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"))}"
            + $"\ncrashes while handling a file that runs no code (counted against the last file loaded)={DelayedCrashes}"
            + $"\ncrashes that did not repeat when the file ran alone again={NotRepeatedAlone}"
            + $"\ntotal={Total}"
            + (OneProcess is null ? "" : $"\n{OneProcess}");
    }
}

/// <summary>
/// Mutates a gcc-built module library (zero length, truncated, flipped bytes, random bytes, a valid ELF header over
/// random bytes) and starts each mutant in a fresh runtime inside child processes (<c>load-each</c>): a mutant that
/// kills its process is counted as a crash, and the next child goes on with the rest.
/// </summary>
internal static partial class LibraryFuzz
{
    /// <summary>Files per child: a hang costs at most one batch's time limit.</summary>
    private const int BatchSize = 50;

    /// <summary>The library every mutant starts from: <see cref="ModuleReloadTests.Module"/> v1, whose <c>value(10)</c> is 11.</summary>
    public static byte[] Original(ModuleWorkbench bench) => File.ReadAllBytes(bench.Build("m", 1, ModuleReloadTests.Module()));

    /// <summary>
    /// The mutants of <paramref name="original"/>, <paramref name="perKind"/> of each kind from <paramref name="seed"/>.
    /// <paramref name="oneProcess"/> null: each in child processes (a death is counted and the next child goes on);
    /// false or true: all in this process, with nothing to catch a death (true: start only, see
    /// <see cref="ChildScenarios.LoadOne"/>).
    /// </summary>
    public static FuzzReport Run(byte[] original, int perKind, int seed, TimeSpan perFileTimeout, bool? oneProcess = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"hcrlab-fuzz-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            var random = new Random(seed);
            var cases = new List<(string Kind, string File)>();
            void Add(string kind, byte[] bytes)
            {
                string file = Path.Combine(directory, $"{cases.Count}.so");
                File.WriteAllBytes(file, bytes);
                cases.Add((kind, file));
            }

            Add("zero-length", []);
            for (int i = 0; i < perKind; i++)
            {
                Add("truncated", original[..random.Next(original.Length)]);
                Add("flipped-bytes", Flip(original, random, random.Next(1, 9)));
                Add("random-bytes", RandomBytes(random, random.Next(1, 2 * original.Length)));
                byte[] headed = RandomBytes(random, original.Length);
                original.AsSpan(0, 64).CopyTo(headed);
                Add("elf-header", headed);
            }

            return oneProcess is { } startOnly ? LoadHere(cases, startOnly) : Load(cases, perFileTimeout);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static FuzzReport Load(List<(string Kind, string File)> cases, TimeSpan perFileTimeout)
    {
        var outcomes = new (FuzzOutcome Outcome, string Detail)[cases.Count];
        var report = new FuzzReport();
        int next = 0;
        while (next < cases.Count)
        {
            var batch = cases.Skip(next).Take(BatchSize).ToList();
            var (answers, death, phase) = RunChild([.. batch.Select(c => c.File)], perFileTimeout);
            answers.CopyTo(outcomes, next);
            next += answers.Count;
            if (death is not { } died)
            {
                continue;
            }

            // The child died on cases[next]. A file the runtime refuses before dlopen runs no code and cannot crash by
            // itself: then code an earlier file of the same child ran (a wild write in its init) is to blame, and the
            // crash goes to the last one that was loaded. Otherwise the file is run alone again, to tell a crash that
            // repeats from one that depends on where address-space layout randomisation put things.
            var (solo, soloDeath, soloPhase) = RunChild([cases[next].File], perFileTimeout);
            int culprit = soloDeath is null && RanNoCode(solo[0]) ? LastLoaded(outcomes, next - answers.Count, next) : -1;
            if (culprit >= 0)
            {
                outcomes[next] = solo[0];
                outcomes[culprit] = (died, "the process died later, while it loaded a file that runs no code");
                report.DelayedCrashes++;
                Count(report, died, "later");
                Keep(cases[culprit].File, $"{cases[culprit].Kind}-{culprit}.so");
            }
            else
            {
                outcomes[next] = (soloDeath ?? died, "");
                Count(report, soloDeath ?? died, soloDeath is null ? phase : soloPhase);
                if (soloDeath is null)
                {
                    report.NotRepeatedAlone++;
                }
            }

            Keep(cases[next].File, $"{cases[next].Kind}-{next}.so");
            next++;
        }

        Tally(cases, outcomes, report);
        return report;
    }

    /// <summary>
    /// Every file in this process, one after the other, with a line each ("N KIND ANSWER"): the run ends with a report
    /// only if none of them ends the process; the files stay behind in the temp directory when one does.
    /// </summary>
    private static FuzzReport LoadHere(List<(string Kind, string File)> cases, bool startOnly)
    {
        var outcomes = new (FuzzOutcome Outcome, string Detail)[cases.Count];
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < cases.Count; i++)
        {
            // One line a file as it goes, so that a run a file ends still shows everything before it.
            string answer = ChildScenarios.LoadOne(i, cases[i].File, startOnly);
            Console.WriteLine($"{i} {cases[i].Kind} {answer}");
            outcomes[i] = Answer(answer);
        }

        var report = new FuzzReport
        {
            OneProcess = $"one process (pid {Environment.ProcessId}, {(startOnly ? "start only" : "start, call and unload")}): all {cases.Count} files in {started.Elapsed.TotalSeconds:F0} s, still running",
        };
        Tally(cases, outcomes, report);
        return report;
    }

    private static void Tally(List<(string Kind, string File)> cases, (FuzzOutcome Outcome, string Detail)[] outcomes, FuzzReport report)
    {
        for (int i = 0; i < cases.Count; i++)
        {
            var (outcome, detail) = outcomes[i];
            if (outcome == FuzzOutcome.Untyped)
            {
                Keep(cases[i].File, $"untyped-{cases[i].Kind}-{i}.so");
            }

            report.Counts[(cases[i].Kind, outcome)] = report.Counts.GetValueOrDefault((cases[i].Kind, outcome)) + 1;
            if (outcome == FuzzOutcome.Refused)
            {
                string stage = detail.Split(':')[0];
                report.RefusedByStage[stage] = report.RefusedByStage.GetValueOrDefault(stage) + 1;
                if (RefusalFault().Match(detail) is { Success: true } fault)
                {
                    CountFault(report, fault.Groups["function"].Value, fault);
                }
            }
            else if (outcome == FuzzOutcome.CallFaulted && CallFault().Match(detail) is { Success: true } fault)
            {
                CountFault(report, "value(10)", fault);
            }
            else if (outcome == FuzzOutcome.Untyped)
            {
                report.Untyped.Add($"{cases[i].Kind}: {detail}");
            }
        }
    }

    private static void CountFault(FuzzReport report, string function, Match fault)
    {
        // Where the PC was: the module's own code (its copies are named m.g<generation>.<n>.so) or a library.
        string image = fault.Groups["image"].Success ? fault.Groups["image"].Value : "unmapped";
        string key = $"{function} {fault.Groups["signal"].Value} in {(ModuleCopy().IsMatch(image) ? "the module" : image)}";
        report.FaultsByFunction[key] = report.FaultsByFunction.GetValueOrDefault(key) + 1;
    }

    /// <summary>Refused before dlopen: the file's code never ran.</summary>
    private static bool RanNoCode((FuzzOutcome Outcome, string Detail) answer) =>
        answer.Outcome == FuzzOutcome.Refused && (answer.Detail.StartsWith("Format:", StringComparison.Ordinal) || answer.Detail.StartsWith("Copy:", StringComparison.Ordinal));

    /// <summary>The last index in [<paramref name="from"/>, <paramref name="to"/>) whose file was loaded (its code ran), or -1.</summary>
    private static int LastLoaded((FuzzOutcome Outcome, string Detail)[] outcomes, int from, int to)
    {
        for (int i = to - 1; i >= from; i--)
        {
            if (!RanNoCode(outcomes[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static void Count(FuzzReport report, FuzzOutcome death, string phase)
    {
        if (death == FuzzOutcome.Crashed)
        {
            report.CrashesByPhase[phase] = report.CrashesByPhase.GetValueOrDefault(phase) + 1;
        }
    }

    /// <summary>
    /// One child over <paramref name="files"/>: the answers it gave, in order, how it died before the rest (null when it
    /// did not), and the phase it had begun for the file it died on (its last mark on standard error).
    /// </summary>
    private static (List<(FuzzOutcome Outcome, string Detail)> Answers, FuzzOutcome? Death, string Phase) RunChild(List<string> files, TimeSpan perFileTimeout)
    {
        var child = ChildProcess.Run(perFileTimeout * files.Count + TimeSpan.FromSeconds(10),
            ["load-each", .. ReliabilityMain.TrialFlags(ChildScenarios.Trial), .. files]);
        var answers = new List<(FuzzOutcome, string)>();
        foreach (string line in child.OutputLines)
        {
            var match = AnswerLine().Match(line);
            if (!match.Success || int.Parse(match.Groups[1].Value) != answers.Count)
            {
                continue;
            }

            answers.Add(Answer(match.Groups[2].Value));
        }

        string mark = $"{answers.Count} ";
        string phase = child.Error.ReplaceLineEndings("\n").Split('\n').LastOrDefault(l => l.StartsWith(mark, StringComparison.Ordinal))?[mark.Length..] ?? "none";
        return (answers, answers.Count == files.Count ? null : child.TimedOut ? FuzzOutcome.Hung : FuzzOutcome.Crashed, phase);
    }

    /// <summary>The outcome an answer of <see cref="ChildScenarios.LoadOne"/> stands for, and its detail.</summary>
    private static (FuzzOutcome Outcome, string Detail) Answer(string answer)
    {
        int space = answer.IndexOf(' ', StringComparison.Ordinal);
        string detail = space < 0 ? "" : answer[(space + 1)..];
        return (space < 0 ? answer : answer[..space]) switch
        {
            "ok" => (detail == "11" ? FuzzOutcome.Correct : FuzzOutcome.OtherAnswer, detail),
            "refused" => (FuzzOutcome.Refused, detail),
            "faulted" => (FuzzOutcome.CallFaulted, detail),
            "started" => (FuzzOutcome.Started, detail),
            _ => (FuzzOutcome.Untyped, detail),
        };
    }

    /// <summary>With HCRLAB_FUZZ_KEEP set, files that killed their child are copied there for a look.</summary>
    private static void Keep(string file, string name)
    {
        if (Environment.GetEnvironmentVariable("HCRLAB_FUZZ_KEEP") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            File.Copy(file, Path.Combine(keep, name), overwrite: true);
        }
    }

    private static byte[] Flip(byte[] original, Random random, int flips)
    {
        byte[] bytes = [.. original];
        for (int i = 0; i < flips; i++)
        {
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        }

        return bytes;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A contained fault as <c>ModuleFault.Describe</c> puts it: "SIGSEGV (...) at address 0x0, pc 0x7f.. (m.g0.1.so+0x1139)".</summary>
    private const string Described = @"(?<signal>SIG\w+) .*?, pc 0x[0-9a-f]+(?: \((?<image>[^+)]+)\+0x[0-9a-f]+\))?";

    [GeneratedRegex(@"^(\d+) ((?:ok|refused|faulted|threw|started)(?: .*)?)$")]
    private static partial Regex AnswerLine();

    /// <summary>A refusal's detail when the fault guard contained a fault: "Init: Init000 faulted: SIGSEGV (...".</summary>
    [GeneratedRegex(@"^\w+: (?<function>.+?) faulted: " + Described)]
    private static partial Regex RefusalFault();

    /// <summary>The detail of a faulted call of the host's: the fault described.</summary>
    [GeneratedRegex("^" + Described)]
    private static partial Regex CallFault();

    [GeneratedRegex(@"^m\.g\d+\.\d+\.so$")]
    private static partial Regex ModuleCopy();
}
