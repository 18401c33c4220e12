using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// What <see cref="HcrRuntimeOptions.TrialLoad"/> costs: reloading one changed module (of one) without it (the
/// baseline) and with it, where every copy is first loaded and unloaded by <c>hcrtrial</c> in a child process. The
/// iteration setup puts the other version in place (not timed), so every invocation is a real reload.
/// </summary>
[InvocationCount(1)]
[WarmupCount(3)]
[IterationCount(15)]
public class TrialLoadBenchmarks
{
    private ModuleFarm? _farm;
    private string? _directory;
    private HcrRuntime? _runtime;
    private int _version = 1;

    [Params(false, true)]
    public bool TrialLoad { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _farm = ModuleFarm.Build(1);
        _directory = _farm.Stage(1);
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions
        {
            ModuleDirectory = _directory, ReportToStandardError = false, JumpTableCapacity = 64, TrialLoad = TrialLoad,
        });
        _runtime.Start(ModuleFarm.Name(0));
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

    [IterationSetup]
    public void ChangeIt()
    {
        _version = 3 - _version;
        _farm!.PutInPlace(_directory!, 0, _version);
    }

    [Benchmark]
    public ReloadResult ReloadOneChanged()
    {
        var result = _runtime!.PerformCodeReload();
        return result.LoadedModules.Count == 1 ? result : throw new InvalidOperationException($"the reload loaded {result.LoadedModules.Count} modules, not 1");
    }
}
