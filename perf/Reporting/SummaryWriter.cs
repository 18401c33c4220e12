using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// Writes <c>DIR/summary.md</c> for one run of perf/run: every figure beside its ratio to Nim's (measured in the same
/// run by the C anchor), to its floor or baseline, and the goals of issue 4 met or missed by how much. Reads the
/// BenchmarkDotNet JSON under DIR, <c>nim.jsonl</c> and <c>hcrlab-c.jsonl</c> (the C anchor's figures for each
/// runtime), <c>footprint.json</c>, <c>nim-status.txt</c> (why Nim was skipped, when it was) and <c>note.txt</c> (what
/// the person who ran it says about the conditions, e.g. a shared machine).
/// </summary>
public static class SummaryWriter
{
    public static int Run(string directory)
    {
        var results = BenchmarkResult.Load(directory);
        var nim = AnchorFigure.Load(Path.Combine(directory, "nim.jsonl"));
        var hcrlabC = AnchorFigure.Load(Path.Combine(directory, "hcrlab-c.jsonl"));
        string summary = Write(results, nim, hcrlabC, directory);
        File.WriteAllText(Path.Combine(directory, "summary.md"), summary);
        Console.Write(summary);
        return 0;
    }

    public static string Write(IReadOnlyList<BenchmarkResult> results, IReadOnlyList<AnchorFigure> nim, IReadOnlyList<AnchorFigure> hcrlabC, string directory)
    {
        var text = new StringBuilder();
        text.AppendLine($"# HcrLab performance: {Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/'))}");
        text.AppendLine();
        text.AppendLine($"Machine: {Machine(directory)}.");
        string note = Path.Combine(directory, "note.txt");
        if (File.Exists(note))
        {
            text.AppendLine(File.ReadAllText(note).Trim());
        }

        text.AppendLine();
        text.AppendLine("BenchmarkDotNet short job; ± is BenchmarkDotNet's 99.9% confidence interval half-width. Nim's figures come from the");
        text.AppendLine("C anchor (perf/nim) in the same run. Ratios above 1× favour HcrLab.");
        text.AppendLine();
        string status = Path.Combine(directory, "nim-status.txt");
        if (nim.Count == 0)
        {
            text.AppendLine($"**Nim columns skipped:** {(File.Exists(status) ? File.ReadAllText(status).Trim() : "no nim.jsonl in this run")}");
            text.AppendLine();
        }
        else if (File.Exists(status))
        {
            text.AppendLine($"Anchor: {File.ReadAllText(status).Trim()}");
            text.AppendLine();
        }

        Symbols(text, results, nim, hcrlabC);
        Footprint(text, directory);
        Calls(text, results, nim, hcrlabC);
        Reloads(text, results);
        Throughput(text, results);
        return text.ToString();
    }

    private static void Symbols(StringBuilder text, IReadOnlyList<BenchmarkResult> results, IReadOnlyList<AnchorFigure> nim, IReadOnlyList<AnchorFigure> hcrlabC)
    {
        text.AppendLine("## Registration and lookup through the C ABI (ns per symbol)");
        text.AppendLine();
        text.AppendLine("| operation | N | HcrLab (BenchmarkDotNet) | floor | runtime work | HcrLab M ops/s | × Nim's throughput | HcrLab (C anchor) | Nim (C anchor) | × Nim, both from C |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var goals = new List<string>();
        foreach (var operation in SymbolOperation.All)
        {
            string op = operation.Method;
            var perSize = new Dictionary<int, double>();
            foreach (int n in SymbolOperation.Sizes)
            {
                var result = results.FirstOrDefault(r => r.Method == op && r.IntParameter("N") == n);
                double? ours = result is null ? null : result.Mean / n;
                double? margin = result is null ? null : (result.Upper - result.Mean) / n;
                double? c = hcrlabC.FirstOrDefault(f => f.Op == op && f.N == n)?.NsPerOp;
                double? theirs = nim.FirstOrDefault(f => f.Op == op && f.N == n)?.NsPerOp;
                double? ratio = ours is { } o && theirs is { } t ? t / o : null;
                if (ours is { } value)
                {
                    perSize[n] = value;
                }

                double? cRatio = c is { } cc && theirs is { } tt ? tt / cc : null;
                double? floor = results.FirstOrDefault(r => r.Method == operation.Floor && r.IntParameter("N") == n) is { } f ? f.Mean / n : null;
                double? work = ours is { } w && floor is { } fl ? w - fl : null;
                text.AppendLine($"| {op} | {n:N0} | {Ns(ours)}{(margin is { } m && !double.IsNaN(m) ? $" ± {Ns(m)}" : "")} | {Ns(floor)} | {Ns(work)} | {(ours is { } x ? F(1e3 / x, "0.00") : "–")} | {Times(ratio)} | {Ns(c)} | {Ns(theirs)} | {Times(cRatio)} |");
                if (n == 100_000 && ratio is { } r)
                {
                    goals.Add(r >= 10
                        ? $"- {op} at N = 100,000: {r:0.0}× Nim's throughput: **met** (goal ≥ 10×)"
                        : $"- {op} at N = 100,000: {r:0.0}× Nim's throughput: **missed**, {10 / r:0.0}× short (goal ≥ 10×)");
                }
            }

            if (perSize.TryGetValue(1_000, out double small) && perSize.TryGetValue(1_000_000, out double large))
            {
                double growth = large / small;
                goals.Add(growth <= 2
                    ? $"- {op}: cost per call grows {growth:0.00}× from N = 1,000 to 1,000,000: **met** (goal ≤ 2×)"
                    : $"- {op}: cost per call grows {growth:0.00}× from N = 1,000 to 1,000,000: **missed**, {growth / 2:0.00}× over (goal ≤ 2×)");
            }
        }

        text.AppendLine();
        text.AppendLine("\"× Nim's throughput\" is Nim's ns per symbol over HcrLab's BenchmarkDotNet figure; \"both from C\" compares the same C loop");
        text.AppendLine("run against each runtime. The goals below use the BenchmarkDotNet figure. \"floor\" is the same loop calling an empty");
        text.AppendLine("[UnmanagedCallersOnly] function of the same signature (what any C ABI call pays to cross into .NET and back), from the");
        text.AppendLine("same run; \"runtime work\" is the operation minus its floor.");
        text.AppendLine();
        text.AppendLine("Goals:");
        text.AppendLine(goals.Count > 0 ? string.Join('\n', goals) : "- not measured in this run");
        text.AppendLine();
    }

    private static void Footprint(StringBuilder text, string directory)
    {
        string path = Path.Combine(directory, "footprint.json");
        if (!File.Exists(path))
        {
            return;
        }

        var f = JsonSerializer.Deserialize<Reporting.Footprint.Figures>(File.ReadAllText(path))!;
        text.AppendLine($"## Memory per symbol (N = {f.N:N0}, after a full collection)");
        text.AppendLine();
        text.AppendLine("| | managed heap | native |");
        text.AppendLine("|---|---:|---:|");
        text.AppendLine($"| proc | {f.ManagedBytesPerProc:0} B | {f.TableBytesPerProc:0} B (jump-table slot) |");
        text.AppendLine($"| global (8-byte) | {f.ManagedBytesPerGlobal:0} B | {f.GlobalBlockBytes} B block + allocator header |");
        text.AppendLine();
        text.AppendLine("Allocated bytes per call are in the B/symbol column of the BenchmarkDotNet report.");
        if (!string.IsNullOrEmpty(f.TablePlacement))
        {
            text.AppendLine($"Jump table placement: {f.TablePlacement} (within rel32 reach of the modules: {(f.TableNearModules ? "yes" : "no")}).");
        }
        text.AppendLine();
    }

    private static void Calls(StringBuilder text, IReadOnlyList<BenchmarkResult> results, IReadOnlyList<AnchorFigure> nim, IReadOnlyList<AnchorFigure> hcrlabC)
    {
        text.AppendLine("## Calls (ns per call)");
        text.AppendLine();
        text.AppendLine("| | direct | plain indirect | through a slot | slot − indirect |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        // Runs stored before slot forms existed read as Form=Indirect (BenchmarkResult.WithAddedParameters).
        double? Bdn(string method, string form) => results.FirstOrDefault(r =>
            r.Type == "SlotCallBenchmarks" && r.Method == method && r.Parameter("Form") == form)?.Mean;
        double? Anchor(IReadOnlyList<AnchorFigure> figures, string op) => figures.FirstOrDefault(f => f.Op == op)?.NsPerOp;
        foreach (string form in new[] { "Direct", "Indirect" })
        {
            if (Bdn("CallThroughSlot", form) is not null)
            {
                double? extra = Bdn("CallThroughSlot", form) - Bdn("IndirectCall", form);
                text.AppendLine($"| HcrLab, BenchmarkDotNet, {form.ToLowerInvariant()} slots (.NET caller; direct = managed call) | {Ns(Bdn("DirectCall", form))} | {Ns(Bdn("IndirectCall", form))} | {Ns(Bdn("CallThroughSlot", form))} | {Ns(extra)} |");
            }
        }

        double? cExtra = Anchor(hcrlabC, "CallThroughSlot") - Anchor(hcrlabC, "CallIndirect");
        double? nimExtra = Anchor(nim, "CallThroughSlot") - Anchor(nim, "CallIndirect");
        text.AppendLine($"| HcrLab, C anchor (default slots) | {Ns(Anchor(hcrlabC, "CallDirect"))} | {Ns(Anchor(hcrlabC, "CallIndirect"))} | {Ns(Anchor(hcrlabC, "CallThroughSlot"))} | {Ns(cExtra)} |");
        text.AppendLine($"| Nim, C anchor | {Ns(Anchor(nim, "CallDirect"))} | {Ns(Anchor(nim, "CallIndirect"))} | {Ns(Anchor(nim, "CallThroughSlot"))} | {Ns(nimExtra)} |");
        text.AppendLine();
        if (cExtra is { } ours && nimExtra is { } theirs)
        {
            text.AppendLine(ours <= theirs
                ? $"Goal (slot overhead no more than Nim's): **met**: {F(ours)} ns against Nim's {F(theirs)} ns, same C loop, same run."
                : $"Goal (slot overhead no more than Nim's): **missed** by {F(ours - theirs)} ns ({F(ours)} against {F(theirs)} ns).");
            text.AppendLine("Nim's table at 0x10000000 is out of rel32 reach of the modules, so Nim's slots jump through a literal. HcrLab");
            text.AppendLine("places its table within rel32 reach of the modules when the address space allows (see the placement above)");
            text.AppendLine("and its default slots are then a direct jmp rel32 whose aligned displacement is re-pointed with one atomic");
            text.AppendLine("store; the indirect form (HcrRuntimeOptions.SlotForm = Indirect) is measured beside it.");
            text.AppendLine();
        }
    }

    private static void Reloads(StringBuilder text, IReadOnlyList<BenchmarkResult> results)
    {
        text.AppendLine("## Reload (µs)");
        text.AppendLine();
        text.AppendLine("| loaded modules | one changed | all changed | floor: copy + dlopen by hand | one changed ÷ floor |");
        text.AppendLine("|---:|---:|---:|---:|---:|");
        string? goal = null;
        foreach (int modules in new[] { 1, 10, 100 })
        {
            BenchmarkResult? Find(string method) => results.FirstOrDefault(r => r.Type == "ReloadBenchmarks" && r.Method == method && r.IntParameter("Modules") == modules);
            var one = Find("ReloadOneChanged");
            var all = Find("ReloadAllChanged");
            var floor = Find("CopyAndLoadByHand");
            double? ratio = one is not null && floor is not null ? one.Mean / floor.Mean : null;
            text.AppendLine($"| {modules} | {Us(one)} | {Us(all)} | {Us(floor)} | {Times(ratio)} |");
            if (modules == 100 && ratio is { } r)
            {
                goal = r <= 1.5
                    ? $"- One changed among 100: {r:0.00}× the floor: **met** (goal ≤ 1.5×)"
                    : $"- One changed among 100: {r:0.00}× the floor: **missed**, {r / 1.5:0.00}× over (goal ≤ 1.5×)";
            }
        }

        text.AppendLine();
        text.AppendLine("Goals:");
        if (goal is not null)
        {
            text.AppendLine(goal);
        }

        // The check is the runtime's default, change reports; runs stored before those existed polled (and read as
        // Detection=Poll, BenchmarkResult.WithAddedParameters), so there polling is the check.
        var notified = results.FirstOrDefault(r => r.Method == "ReloadNeededNoChange" && r.Parameter("Detection") == "Notify");
        var polled = results.FirstOrDefault(r => r.Method == "ReloadNeededNoChange" && r.Parameter("Detection") == "Poll");
        var check = notified ?? polled;
        polled = notified is null ? null : polled;
        var stats = results.FirstOrDefault(r => r.Method == "StatEveryModuleByHand");
        if (check is not null)
        {
            double us = check.Mean / 1e3;
            string floor = stats is null ? "" : $"; one stat per module file by hand: {F(stats.Mean / 1e3)} µs, so {F(check.Mean / stats.Mean)}× that";
            floor += polled is null ? "" : $"; polling instead of change reports: {F(polled.Mean / 1e3)} µs";
            text.AppendLine(us < 50
                ? $"- No-change check (hcrReloadNeeded) with 100 modules: {F(us)} µs: **met** (goal < 50 µs){floor}"
                : $"- No-change check (hcrReloadNeeded) with 100 modules: {F(us)} µs: **missed**, {us / 50:0.0}× over (goal < 50 µs){floor}");
        }

        text.AppendLine();
    }

    private static void Throughput(StringBuilder text, IReadOnlyList<BenchmarkResult> results)
    {
        int cores = Environment.ProcessorCount;
        text.AppendLine("## Encoders and the lab, per CPU");
        text.AppendLine();
        text.AppendLine($"| CPU | encodings/s (plan + write) | lab cases/s, one engine | lab cases/s, one engine per core ({cores} cores) |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (string cpu in new[] { "i386", "amd64", "arm", "thumb", "arm64" })
        {
            double? Rate(string type, string method, double engines = 1) =>
                results.FirstOrDefault(r => r.Type == type && r.Method == method && r.Parameter("Cpu") == cpu) is { } r ? engines * 1e9 / r.Mean : null;
            text.AppendLine($"| {cpu} | {Count(Rate("EncoderBenchmarks", "PlanAndEncode"))} | {Count(Rate("LabBenchmarks", "OneEngine"))} | {Count(Rate("LabBenchmarks", "EnginePerCore", cores))} |");
        }

        text.AppendLine();
        text.AppendLine();
        text.AppendLine("Reproduce: `perf/run` writes a run like this one to perf/results/<date>/; `perf/compare OLD NEW` flags regressions.");
    }

    /// <summary>The host as BenchmarkDotNet recorded it: processor, cores, OS and .NET.</summary>
    private static string Machine(string directory)
    {
        string? report = Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*-report-*.json", SearchOption.AllDirectories).FirstOrDefault()
            : null;
        if (report is null)
        {
            return "unknown (no BenchmarkDotNet report)";
        }

        using var document = JsonDocument.Parse(File.ReadAllText(report));
        var host = document.RootElement.GetProperty("HostEnvironmentInfo");
        string Text(string name) => host.TryGetProperty(name, out var value) ? value.ToString() : "?";
        return $"{Text("ProcessorName")}, {Text("PhysicalCoreCount")} cores ({Text("LogicalCoreCount")} logical), {Text("OsVersion")}, {Text("RuntimeVersion")}";
    }

    private static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Ns(double? value) => value is { } v ? F(v, v >= 100 ? "0" : v >= 10 ? "0.0" : "0.00") : "–";

    private static string Us(BenchmarkResult? result) => result is null ? "–" : $"{F(result.Mean / 1e3, "0")} ± {F((result.Upper - result.Mean) / 1e3, "0")}";

    private static string Times(double? ratio) => ratio is { } r ? $"{F(r)}×" : "–";

    private static string Count(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "–";
}
