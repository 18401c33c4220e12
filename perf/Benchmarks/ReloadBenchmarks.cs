using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// Reload latency with 1, 10 or 100 loaded modules (gcc-built, see <see cref="ModuleFarm"/>): one module changed, all
/// changed, against the floor measured in the same run: copying and dlopen-ing that one library by hand (and dropping
/// the previous copy, as a reload does). The iteration setup writes the other version's bytes over the changed
/// modules' files (not timed), so every invocation is a real reload; one invocation per iteration.
/// </summary>
[InvocationCount(1)]
[WarmupCount(3)]
[IterationCount(15)]
public class ReloadBenchmarks
{
    private ModuleFarm? _farm;
    private string? _directory;
    private HcrRuntime? _runtime;
    private int[] _versions = [];
    private nint _floorHandle;
    private string? _floorCopy;
    private long _floorCopies;

    [Params(1, 10, 100)]
    public int Modules { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _farm = ModuleFarm.Build(Modules);
        _directory = _farm.Stage(Modules);
        _versions = Enumerable.Repeat(1, Modules).ToArray();
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { ModuleDirectory = _directory, ReportToStandardError = false, JumpTableCapacity = 4096 });
        _runtime.Start(Enumerable.Range(0, Modules).Select(ModuleFarm.Name));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        DropFloorCopy();
        _runtime?.Dispose();
        _runtime = null;
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [IterationSetup(Targets = [nameof(ReloadOneChanged), nameof(CopyAndLoadByHand)])]
    public void ChangeOne() => Flip(0);

    [IterationSetup(Target = nameof(ReloadAllChanged))]
    public void ChangeAll()
    {
        for (int i = 0; i < Modules; i++)
        {
            Flip(i);
        }
    }

    [Benchmark]
    public ReloadResult ReloadOneChanged() => Reload(expected: 1);

    [Benchmark]
    public ReloadResult ReloadAllChanged() => Reload(expected: Modules);

    /// <summary>The floor: what any loader must do for the changed library, with no runtime around it.</summary>
    [Benchmark(Baseline = true)]
    public nint CopyAndLoadByHand()
    {
        string copy = Path.Combine(_runtime!.CopyDirectory, $"floor.{++_floorCopies}.so");
        File.Copy(Path.Combine(_directory!, $"{ModuleFarm.Name(0)}.so"), copy);
        nint handle = PerfNative.Dlopen(copy, PerfNative.RtldNow | PerfNative.RtldLocal);
        if (handle == 0)
        {
            throw new InvalidOperationException($"dlopen {copy}: {PerfNative.Dlerror()}");
        }

        DropFloorCopy();
        _floorHandle = handle;
        _floorCopy = copy;
        return handle;
    }

    private ReloadResult Reload(int expected)
    {
        var result = _runtime!.PerformCodeReload();
        if (result.LoadedModules.Count != expected)
        {
            throw new InvalidOperationException($"the reload loaded {result.LoadedModules.Count} modules, not {expected}");
        }

        return result;
    }

    /// <summary>Puts the other version of module <paramref name="index"/> in place, as a rebuild would.</summary>
    private void Flip(int index)
    {
        _versions[index] = 3 - _versions[index];
        _farm!.PutInPlace(_directory!, index, _versions[index]);
    }

    private void DropFloorCopy()
    {
        if (_floorHandle != 0)
        {
            PerfNative.Dlclose(_floorHandle);
            _floorHandle = 0;
        }

        if (_floorCopy is not null)
        {
            File.Delete(_floorCopy);
            _floorCopy = null;
        }
    }
}
