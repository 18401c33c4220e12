using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// The no-change check a host makes every frame: <c>hcrReloadNeeded</c> through the C ABI with 100 loaded modules and
/// none changed on disk (the goal: under 50 µs).
/// </summary>
public unsafe class ReloadCheckBenchmarks
{
    private string? _directory;
    private HcrRuntime? _runtime;

    [Params(100)]
    public int Modules { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _directory = ModuleFarm.Build(Modules).Stage(Modules);
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { ModuleDirectory = _directory, ReportToStandardError = false, JumpTableCapacity = 4096 });
        _runtime.Start(Enumerable.Range(0, Modules).Select(ModuleFarm.Name));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime?.Dispose();
        _runtime = null;
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Benchmark]
    public bool ReloadNeededNoChange() => CAbi.ReloadNeeded() != 0
        ? throw new InvalidOperationException("nothing changed, yet the runtime says a reload is needed")
        : false;
}
