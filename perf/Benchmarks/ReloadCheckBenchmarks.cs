using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// The no-change check a host makes every frame: <c>hcrReloadNeeded</c> through the C ABI with 100 loaded modules and
/// none changed on disk (the goal: under 50 µs), with the kernel's change reports (the default) and with polling,
/// against the floor of polling in the same run: one <c>stat</c> per module file by hand.
/// </summary>
public unsafe class ReloadCheckBenchmarks
{
    private string? _directory;
    private HcrRuntime? _runtime;
    private NativeNames? _paths;
    private byte[] _stat = new byte[256];

    [Params(100)]
    public int Modules { get; set; }

    [Params(ChangeDetection.Notify, ChangeDetection.Poll)]
    public ChangeDetection Detection { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _directory = ModuleFarm.Build(Modules).Stage(Modules);
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions
        {
            ModuleDirectory = _directory, ReportToStandardError = false, JumpTableCapacity = 4096, ChangeDetection = Detection,
        });
        _runtime.Start(Enumerable.Range(0, Modules).Select(ModuleFarm.Name));
        _paths = new NativeNames(Path.Combine(_directory, "m"), Modules, suffix: ".so", digits: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime?.Dispose();
        _runtime = null;
        _paths?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Benchmark(Baseline = true)]
    public int StatEveryModuleByHand()
    {
        var paths = _paths!;
        int failures = 0;
        fixed (byte* buffer = _stat)
        {
            for (int i = 0; i < paths.Count; i++)
            {
                failures += PerfNative.Stat(paths[i], buffer) != 0 ? 1 : 0;
            }
        }

        return failures == 0 ? paths.Count : throw new InvalidOperationException($"{failures} module files could not be stat'ed");
    }

    [Benchmark]
    public bool ReloadNeededNoChange() => CAbi.ReloadNeeded() != 0
        ? throw new InvalidOperationException("nothing changed, yet the runtime says a reload is needed")
        : false;
}
