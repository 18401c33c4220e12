using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// Re-registering and looking up N known names through the C ABI: the global setup registers every name once, and one
/// invocation walks all N names in order. Per symbol: the "ns/symbol" and "B/symbol" columns divide by N. The Floor
/// benchmarks run the same loops into empty functions of the same signatures (<see cref="CAbiFloor"/>): an operation's
/// runtime work is its figure minus its floor.
/// </summary>
[MemoryDiagnoser]
public unsafe class SymbolLookupBenchmarks
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
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = N + 16, ReportToStandardError = false });
        CAbi.AddModule(Module);
        SymbolWorkload.RegisterProcs(Module, _procs, _target.Address);
        SymbolWorkload.RegisterGlobals(Module, _globals);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime?.Dispose();
        _runtime = null;
        _procs?.Dispose();
        _globals?.Dispose();
        _target?.Dispose();
    }

    /// <summary>A known name: the slot stays, its literal is re-pointed (here to the same target, as an unchanged module's DatInit000 does).</summary>
    [Benchmark]
    public nint RegisterProcExisting() => SymbolWorkload.RegisterProcs(Module, _procs!, _target!.Address);

    [Benchmark]
    public nint GetProc()
    {
        var names = _procs!;
        nint sum = 0;
        for (int i = 0; i < names.Count; i++)
        {
            sum += CAbi.GetProc(Module, names[i]);
        }

        return sum;
    }

    [Benchmark]
    public nint RegisterGlobalExisting() => SymbolWorkload.RegisterGlobals(Module, _globals!);

    [Benchmark]
    public nint GetGlobal()
    {
        var names = _globals!;
        nint sum = 0;
        for (int i = 0; i < names.Count; i++)
        {
            sum += CAbi.GetGlobal(Module, names[i]);
        }

        return sum;
    }

    /// <summary>The floor of <see cref="RegisterProcExisting"/>: the same loop, the call into an empty function.</summary>
    [Benchmark]
    public nint FloorRegisterProc() => SymbolWorkload.FloorRegisterProcs(Module, _procs!, _target!.Address);

    /// <summary>The floor of <see cref="GetProc"/> and <see cref="GetGlobal"/>.</summary>
    [Benchmark]
    public nint FloorGet() => SymbolWorkload.FloorGets(Module, _procs!);

    /// <summary>The floor of <see cref="RegisterGlobalExisting"/>.</summary>
    [Benchmark]
    public nint FloorRegisterGlobal() => SymbolWorkload.FloorRegisterGlobals(Module, _globals!);
}
