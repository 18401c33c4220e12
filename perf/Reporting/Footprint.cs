using System.Text.Json;
using HcrLab.Perf.Benchmarks;
using HcrLab.Perf.Infrastructure;
using HcrLab.Runtime;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// What a symbol costs to keep, at N = 100,000 names registered through the C ABI: managed heap growth per proc and
/// per global (the tables, names and symbol objects, after a full collection), and native bytes per proc (the jump
/// table's slot, from the table's own accounting). A global's block is its size rounded up to 16, plus the allocator's
/// own header, which is not counted.
/// </summary>
public static unsafe class Footprint
{
    /// <param name="N">Symbols of each kind registered.</param>
    /// <param name="ManagedBytesPerProc">Managed heap growth per proc.</param>
    /// <param name="TableBytesPerProc">Jump-table bytes per proc.</param>
    /// <param name="ManagedBytesPerGlobal">Managed heap growth per global.</param>
    /// <param name="GlobalBlockBytes">The native block of an 8-byte global (16-aligned).</param>
    /// <param name="TableNearModules">Whether the table's executable view is within rel32 reach of libc (where modules load).</param>
    /// <param name="TablePlacement">The runtime's own words for where the table went.</param>
    public record Figures(int N, double ManagedBytesPerProc, double TableBytesPerProc, double ManagedBytesPerGlobal, int GlobalBlockBytes, bool TableNearModules, string TablePlacement);

    public static int Run(string output)
    {
        var figures = Measure(SymbolSizes.Medium);
        File.WriteAllText(output, JsonSerializer.Serialize(figures));
        Console.WriteLine(JsonSerializer.Serialize(figures));
        return 0;
    }

    public static Figures Measure(int n)
    {
        byte* module = NativeNames.Single(SymbolSizes.Module);
        using var procs = new NativeNames("p", n);
        using var globals = new NativeNames("g", n);
        using var target = new NativeIncrement();
        using var runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = n + 16, ReportToStandardError = false });
        CAbi.AddModule(module);

        long start = GC.GetTotalMemory(forceFullCollection: true);
        ulong tableStart = runtime.Table.Memory.Used;
        for (int i = 0; i < n; i++)
        {
            CAbi.RegisterProc(module, procs[i], target.Address);
        }

        long afterProcs = GC.GetTotalMemory(forceFullCollection: true);
        ulong tableBytes = runtime.Table.Memory.Used - tableStart;
        nint block;
        for (int i = 0; i < n; i++)
        {
            CAbi.RegisterGlobal(module, globals[i], sizeof(long), 0, &block);
        }

        long afterGlobals = GC.GetTotalMemory(forceFullCollection: true);
        return new Figures(n, (afterProcs - start) / (double)n, tableBytes / (double)n, (afterGlobals - afterProcs) / (double)n, 16,
            runtime.Table.Memory.IsNearAnchor, runtime.Table.Memory.Placement);
    }
}
