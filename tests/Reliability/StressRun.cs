using System.Diagnostics;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>What a stress run is asked to do: it ends when the callers have made <see cref="Calls"/> calls or after <see cref="Duration"/>.</summary>
internal sealed record StressOptions(long Calls, int Threads, TimeSpan Duration, int Modules = 4, int ProcsPerModule = 16, int RepointsPerReload = 16, int Seed = 1, int MaxRetainedGenerations = 8);

/// <summary>The figures of a stress run. A crash ends the process, so it is counted by the parent that started it.</summary>
internal sealed record StressReport(
    int Threads, int Slots, long Calls, long Reloads, long Repoints, long WrongResults, long BadCalls,
    long UnloadedImages, int MaxRetainedImages, long ForcedUnloads, int RwxMappings, double Seconds, string? FirstWrong)
{
    public override string ToString() =>
        $"stress: threads={Threads} slots={Slots} calls={Calls} reloads={Reloads} repoints={Repoints} wrong={WrongResults} " +
        $"badcalls={BadCalls} unloaded-images={UnloadedImages} max-retained-images={MaxRetainedImages} forced-unloads={ForcedUnloads} " +
        $"rwx-mappings={RwxMappings} seconds={Seconds:F1}" + (FirstWrong is null ? "" : $" first-wrong=\"{FirstWrong}\"");
}

/// <summary>
/// Several registered threads call through every slot of <see cref="StressOptions.Modules"/> gcc-built modules in a tight
/// loop while this thread re-points slots to sibling procs and reloads every module, alternating two prebuilt versions.
/// Each proc answers <c>version &lt;&lt; 56 | alternate &lt;&lt; 55 | stamp &lt;&lt; 16 | id</c>, where the stamp is the generation its image
/// was loaded at: a caller checks the id, that the version is the one installed at that generation, and that the stamp
/// never goes back on a slot it has already seen newer (an old result after a new one).
/// </summary>
internal sealed unsafe class StressRun
{
    private const int MaxGenerations = 1 << 20;
    private const int QuiescentEvery = 64;

    private readonly StressOptions _options;
    private readonly byte[] _versionAt = new byte[MaxGenerations];
    private long _calls;
    private long _wrong;
    private string? _firstWrong;
    private volatile bool _stop;

    public StressRun(StressOptions options) => _options = options;

    public static StressReport Run(StressOptions options) => new StressRun(options).Run();

    /// <summary>A module whose procs p0.. and their alternates q0.. say which image answered; the busy loop keeps callers inside it a while.</summary>
    public static string Source(int moduleIndex, int procs)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"#define MODULE_INDEX {moduleIndex}");
        text.AppendLine("static int64_t stamp;");
        text.AppendLine("static int64_t answer(int64_t id, int64_t alt) { for (volatile int k = 0; k < 8; k++) { } return ((int64_t)VERSION << 56) | (alt << 55) | (stamp << 16) | id; }");
        for (int i = 0; i < procs; i++)
        {
            text.AppendLine($"static int64_t p{i}(int64_t x) {{ (void)x; return answer(MODULE_INDEX * 256 + {i}, 0); }}");
            text.AppendLine($"static int64_t q{i}(int64_t x) {{ (void)x; return answer(MODULE_INDEX * 256 + {i}, 1); }}");
        }

        // The stamp is written before any slot points at this image, so no caller can see this image unstamped.
        text.AppendLine("void DatInit000(void) {\n    stamp = hcrGeneration();");
        for (int i = 0; i < procs; i++)
        {
            text.AppendLine($"    hcrRegisterProc(M, \"p{i}\", (void*)p{i});\n    hcrRegisterProc(M, \"q{i}\", (void*)q{i});");
        }

        text.AppendLine("}");
        text.AppendLine("void Init000(void) { }");
        text.AppendLine("const char** HcrGetImportedModules(void) { static const char* imports[] = { \"\" }; return imports; }");
        text.AppendLine("const char* HcrGetSigHash(void) { return TAG; }");
        return text.ToString();
    }

    private StressReport Run()
    {
        using var bench = new ModuleWorkbench(
            jumpTableCapacity: 4 * _options.Modules * _options.ProcsPerModule + 16,
            new HcrRuntimeOptions { MaxRetainedGenerations = _options.MaxRetainedGenerations, QuiescenceTimeout = _options.MaxRetainedGenerations == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(1) });
        var runtime = bench.Runtime;
        string[] modules = [.. Enumerable.Range(0, _options.Modules).Select(m => $"m{m}")];
        var builds = new string[_options.Modules, 3];
        for (int version = 1; version <= 2; version++)
        {
            for (int m = 0; m < modules.Length; m++)
            {
                builds[m, version] = bench.PathOf(modules[m]) + $".v{version}";
                File.Copy(bench.Build(modules[m], version, Source(m, _options.ProcsPerModule)), builds[m, version], overwrite: true);
            }
        }

        Install(bench, modules, builds, version: 1);
        _versionAt[0] = 1;
        runtime.Start(modules);

        var slots = new nint[modules.Length * _options.ProcsPerModule];
        for (int m = 0; m < modules.Length; m++)
        {
            for (int i = 0; i < _options.ProcsPerModule; i++)
            {
                slots[(m * _options.ProcsPerModule) + i] = runtime.GetProc(modules[m], $"p{i}");
            }
        }

        var clock = Stopwatch.StartNew();
        long perThread = _options.Calls / _options.Threads;
        var callers = Enumerable.Range(0, _options.Threads)
            .Select(t => new Thread(() => Call(runtime, slots, t, perThread)) { Name = $"caller-{t}", IsBackground = true })
            .ToList();
        callers.ForEach(c => c.Start());

        long reloads = 0, repoints = 0;
        int maxRetained = 0;
        var random = new Random(_options.Seed);
        while (callers.Any(c => c.IsAlive))
        {
            long generation = runtime.Generation;
            if (generation + 1 >= MaxGenerations)
            {
                break;
            }

            byte next = (byte)(_versionAt[generation] == 1 ? 2 : 1);
            _versionAt[generation + 1] = next;
            Install(bench, modules, builds, next);
            var result = runtime.PerformCodeReload();
            if (!result.Reloaded || result.Generation != generation + 1 || result.LoadedModules.Count != modules.Length)
            {
                throw new InvalidOperationException($"reload {reloads + 1} did not reload every module: {result}");
            }

            reloads++;
            maxRetained = Math.Max(maxRetained, runtime.Retention.RetainedImages);
            for (int r = 0; r < _options.RepointsPerReload; r++)
            {
                string module = modules[random.Next(modules.Length)];
                int proc = random.Next(_options.ProcsPerModule);
                runtime.RegisterProc(module, $"p{proc}", runtime.GetProcSymbol(module, $"q{proc}").Target);
                repoints++;
            }

            if (clock.Elapsed >= _options.Duration)
            {
                _stop = true;
            }
        }

        _stop = true;
        callers.ForEach(c => c.Join());
        double seconds = clock.Elapsed.TotalSeconds;
        int rwx = ProcessMemoryMap.Read().Count(m => m.IsWritable && m.IsExecutable);
        return new StressReport(
            _options.Threads, slots.Length, Interlocked.Read(ref _calls), reloads, repoints, Interlocked.Read(ref _wrong), runtime.Table.BadCallCount,
            runtime.Retention.UnloadedImages, maxRetained, runtime.Retention.ForcedUnloads, rwx, seconds, _firstWrong);
    }

    /// <summary>
    /// The answer's stamp when <paramref name="result"/> is right for slot <paramref name="index"/>: its id is the slot's
    /// proc, its version is the one installed at its stamp's generation, and its stamp is not older than
    /// <paramref name="lastStamp"/>, the newest this caller saw on the slot. Null for a wrong result.
    /// </summary>
    internal static long? Check(long result, int index, int procs, byte[] versionAt, long lastStamp)
    {
        long id = result & 0xFFFF;
        long stamp = (result >> 16) & ((1L << 39) - 1);
        long version = (result >> 56) & 0x7F;
        bool right = id == ((index / procs) * 256) + (index % procs)
            && stamp < versionAt.Length && version != 0 && version == Volatile.Read(ref versionAt[(int)stamp])
            && stamp >= lastStamp;
        return right ? stamp : null;
    }

    /// <summary>Puts one version of every module in place the way a build does: a complete file renamed over the old one.</summary>
    private static void Install(ModuleWorkbench bench, string[] modules, string[,] builds, int version)
    {
        for (int m = 0; m < modules.Length; m++)
        {
            string target = bench.PathOf(modules[m]);
            File.Copy(builds[m, version], target + ".tmp", overwrite: true);
            File.Move(target + ".tmp", target, overwrite: true);
        }
    }

    private void Call(HcrRuntime runtime, nint[] slots, int threadIndex, long budget)
    {
        using var me = runtime.RegisterThread();
        var lastStamp = new long[slots.Length];
        int procs = _options.ProcsPerModule;
        long calls = 0, wrong = 0;
        int cursor = threadIndex * 7;
        while (calls < budget && !_stop)
        {
            for (int n = 0; n < QuiescentEvery; n++)
            {
                int index = cursor++ % slots.Length;
                long result = ((delegate* unmanaged<long, long>)slots[index])(calls);
                if (Check(result, index, procs, _versionAt, lastStamp[index]) is { } stamp)
                {
                    lastStamp[index] = stamp;
                }
                else
                {
                    wrong++;
                    Interlocked.CompareExchange(ref _firstWrong, $"thread {threadIndex} slot {index}: 0x{result:x16} (last stamp {lastStamp[index]})", null);
                }
            }

            calls += QuiescentEvery;
            me.ReportQuiescentState();
        }

        Interlocked.Add(ref _calls, calls);
        Interlocked.Add(ref _wrong, wrong);
    }
}
