using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// Registering N new names through the C ABI: every iteration starts from a fresh runtime (built in the iteration
/// setup, not timed) and one invocation registers all N names, so the figure is the mean over a table growing from 0
/// to N, as Nim's figures are. Per symbol: the "ns/symbol" and "B/symbol" columns divide by N. The Floor benchmarks
/// run the same loops into empty functions of the same signatures (<see cref="CAbiFloor"/>), under the same one
/// invocation per iteration.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[WarmupCount(2)]
[IterationCount(7)]
public unsafe class SymbolRegistrationBenchmarks
{
    private static readonly byte* Module = NativeNames.Single(SymbolSizes.Module);

    private NativeNames? _procs;
    private NativeNames? _globals;
    private NativeIncrement? _target;
    private HcrRuntime? _runtime;

    [Params(SymbolSizes.Small, SymbolSizes.Medium, SymbolSizes.Large)]
    public int N { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _procs = new NativeNames("p", N);
        _globals = new NativeNames("g", N);
        _target = new NativeIncrement();
    }

    [IterationSetup]
    public void FreshRuntime()
    {
        _runtime?.Dispose();
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = N + 16, ReportToStandardError = false });
        CAbi.AddModule(Module);
    }

    [IterationCleanup]
    public void DropRuntime()
    {
        _runtime?.Dispose();
        _runtime = null;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        DropRuntime();
        _procs?.Dispose();
        _globals?.Dispose();
        _target?.Dispose();
    }

    [Benchmark]
    public nint RegisterProcNew() => SymbolWorkload.RegisterProcs(Module, _procs!, _target!.Address);

    [Benchmark]
    public nint RegisterGlobalNew() => SymbolWorkload.RegisterGlobals(Module, _globals!);

    /// <summary>The floor of <see cref="RegisterProcNew"/>: the same loop, the call into an empty function.</summary>
    [Benchmark]
    public nint FloorRegisterProcNew() => SymbolWorkload.FloorRegisterProcs(Module, _procs!, _target!.Address);

    /// <summary>The floor of <see cref="RegisterGlobalNew"/>.</summary>
    [Benchmark]
    public nint FloorRegisterGlobalNew() => SymbolWorkload.FloorRegisterGlobals(Module, _globals!);
}
