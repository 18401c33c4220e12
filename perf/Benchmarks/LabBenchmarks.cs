using BenchmarkDotNet.Attributes;
using HcrLab.Encoders;
using HcrLab.Lab.Verification;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// Emulated cases per second per CPU: the lab's <see cref="CaseRunner"/> (encode, run in Unicorn, re-point twice,
/// disassemble) over an even sample of the CPU's case matrix, with one engine, and with one engine per core running
/// the same sample side by side. ns per case per engine: one engine does 1e9 / ns cases/s; the per-core figure is
/// wall time, so all engines together do (cores × 1e9 / ns) cases/s.
/// </summary>
public class LabBenchmarks
{
    private const int Cases = 64;

    private CaseRunner[] _runners = [];
    private JumpCase[] _cases = [];

    [ParamsSource(nameof(Cpus))]
    public string Cpu { get; set; } = "amd64";

    public static IEnumerable<string> Cpus => InstructionSetNames.All.Select(i => i.ShortName());

    [GlobalSetup]
    public void GlobalSetup()
    {
        var isa = InstructionSetNames.Parse(Cpu);
        _runners = [.. Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new CaseRunner(isa))];
        var matrix = CaseMatrix.For(isa, _runners[0].IsReserved);
        int step = Math.Max(1, matrix.Count / Cases);
        _cases = [.. matrix.Where((_, i) => i % step == 0).Take(Cases)];
        if (_cases.Length != Cases)
        {
            throw new InvalidOperationException($"the {Cpu} case matrix has {matrix.Count} cases, fewer than the {Cases} sampled");
        }

        // Warm every engine, so neither benchmark pays a first run's setup.
        foreach (var runner in _runners)
        {
            RunAll(runner);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var runner in _runners)
        {
            runner.Dispose();
        }

        _runners = [];
    }

    [Benchmark(OperationsPerInvoke = Cases)]
    public int OneEngine() => RunAll(_runners[0]);

    [Benchmark(OperationsPerInvoke = Cases)]
    public int EnginePerCore()
    {
        int passed = 0;
        Parallel.ForEach(_runners, new ParallelOptions { MaxDegreeOfParallelism = _runners.Length }, runner => Interlocked.Add(ref passed, RunAll(runner)));
        return passed;
    }

    private int RunAll(CaseRunner runner)
    {
        int passed = 0;
        foreach (var c in _cases)
        {
            if (runner.Run(c).Passed)
            {
                passed++;
            }
        }

        return passed;
    }
}
