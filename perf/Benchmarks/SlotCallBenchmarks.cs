using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// A call through a jump-table slot against a plain indirect call to the same native function (the baseline) and a
/// direct call. Native calls use <c>SuppressGCTransition</c> so what is timed is the call instruction and the slot's
/// jump, not .NET's transition to native code. The direct call is to a managed method that does the same work (.NET
/// cannot emit a direct call to native code); the C anchor (perf/nim) measures a native direct call. Both slot forms are
/// measured; the callee sits near libc, where dlopen puts modules, so a direct slot reaches it with its rel32.
/// </summary>
public unsafe class SlotCallBenchmarks
{
    private const int Calls = 1024;

    private NativeIncrement? _target;
    private HcrRuntime? _runtime;
    private delegate* unmanaged[SuppressGCTransition]<long, long> _plain;
    private delegate* unmanaged[SuppressGCTransition]<long, long> _slot;

    [Params(SlotForm.Direct, SlotForm.Indirect)]
    public SlotForm Form { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _target = new NativeIncrement();
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = 16, ReportToStandardError = false, SlotForm = Form });
        _plain = (delegate* unmanaged[SuppressGCTransition]<long, long>)_target.Address;
        _slot = (delegate* unmanaged[SuppressGCTransition]<long, long>)_runtime.RegisterProc(_runtime.RootModule, "increment", _target.Address);
        if (_slot(41) != 42 || _plain(41) != 42)
        {
            throw new InvalidOperationException("the increment function or its slot does not compute x + 1");
        }

        // A direct slot is E9 rel32 at its entry; rel32 = 8 would mean the target is out of reach and calls take the tail.
        if (Form == SlotForm.Direct && (*(byte*)_slot != 0xE9 || *(int*)((byte*)_slot + 1) == 8))
        {
            throw new InvalidOperationException("the direct slot does not jump straight to the increment function");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime?.Dispose();
        _runtime = null;
        _target?.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public long DirectCall()
    {
        long x = 0;
        for (int i = 0; i < Calls; i++)
        {
            x = Increment(x);
        }

        return x;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public long IndirectCall()
    {
        var f = _plain;
        long x = 0;
        for (int i = 0; i < Calls; i++)
        {
            x = f(x);
        }

        return x;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public long CallThroughSlot()
    {
        var f = _slot;
        long x = 0;
        for (int i = 0; i < Calls; i++)
        {
            x = f(x);
        }

        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Increment(long x) => x + 1;
}
