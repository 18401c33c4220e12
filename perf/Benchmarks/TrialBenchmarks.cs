using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// What <see cref="HcrRuntimeOptions.Trial"/> costs: reloading one changed module (of one) without a trial (the
/// baseline), with the trial load (<c>hcrtrial</c> loads and unloads every copy in a child process first) and with the
/// trial start (that, and one more child process that runs the reload's passes first). The iteration setup puts the
/// other version in place (not timed), so every invocation is a real reload.
/// </summary>
[InvocationCount(1)]
[WarmupCount(3)]
[IterationCount(15)]
public class TrialBenchmarks
{
    private ModuleFarm? _farm;
    private string? _directory;
    private HcrRuntime? _runtime;
    private int _version = 1;

    [Params(ModuleTrial.None, ModuleTrial.Load, ModuleTrial.Start)]
    public ModuleTrial Trial { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _farm = ModuleFarm.Build(1);
        _directory = _farm.Stage(1);
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions
        {
            ModuleDirectory = _directory, ReportToStandardError = false, JumpTableCapacity = 64, Trial = Trial,
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
