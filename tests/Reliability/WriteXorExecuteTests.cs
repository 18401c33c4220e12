using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// After a workload that exercises every way the runtime writes code or data near code — slots carved and re-pointed,
/// bad-call thunks, reloads committed and rolled back, images retained for a thread and unloaded later — no mapping of
/// the process is writable and executable at once. (<see cref="ExecutableMemoryTests"/> checks the views of one
/// executable memory right after it is committed.)
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe class WriteXorExecuteTests
{
    [OneTimeSetUp]
    public void RequireGcc() => ModuleWorkbench.RequireGcc();

    [Test]
    public void NoMappingIsWritableAndExecutableAfterAReloadWorkload()
    {
        using var bench = new ModuleWorkbench(options: new HcrRuntimeOptions { QuiescenceTimeout = TimeSpan.Zero });
        var runtime = bench.Runtime;
        bench.Build("b", 1, ModuleReloadTests.Module(datInit: """hcrRegisterProc(M, "doomed", (void*)value_actual);"""));
        bench.Build("a", 1, ModuleReloadTests.Module(imports: ["b"]));
        runtime.Start("a");
        nint doomed = runtime.GetProc("b", "doomed");
        using var holder = runtime.RegisterOnAnotherThread("holder"); // reports on its own thread, as HcrThread demands

        for (int version = 2; version <= 21; version++)
        {
            bench.Build("b", version, ModuleReloadTests.Module());
            bench.Build("a", version, ModuleReloadTests.Module(imports: ["b"]));
            runtime.PerformCodeReload();
            runtime.RegisterProc("a", "value", runtime.GetProcSymbol("b", "value").Target);
            if (version == 5)
            {
                holder.ReportQuiescentState();
            }
        }

        bench.Corrupt("a");
        Assert.Throws<ModuleLoadException>(() => runtime.PerformCodeReload());
        Assert.That(((delegate* unmanaged<long, long>)doomed)(1), Is.Zero, "a bad call through a removed proc's thunk");
        Assert.That((runtime.Retention.RetainedImages, runtime.Retention.ForcedUnloads, runtime.Table.BadCallCount), Is.EqualTo((16, 16L, 1L)),
            "the holder last reported at v5: the bound keeps v13..v20 of a and b for it and forced v5..v12 out");

        var mappings = ProcessMemoryMap.Read();
        var table = runtime.Table.Memory;
        Assert.Multiple(() =>
        {
            Assert.That(mappings.Where(m => m.IsWritable && m.IsExecutable).Select(m => m.ToString()), Is.Empty, "writable and executable mappings");
            Assert.That(mappings.Where(m => m.Contains((ulong)table.ExecutableBase)).Select(m => m.Permissions), Is.EqualTo(new[] { "r-xs" }));
            Assert.That(mappings.Where(m => m.Contains((ulong)table.WritableBase)).Select(m => m.Permissions), Is.EqualTo(new[] { "rw-s" }));
            Assert.That(mappings.Where(m => m.Path.StartsWith(runtime.CopyDirectory, StringComparison.Ordinal)).Select(m => Path.GetFileName(m.Path)).Distinct().Count(),
                Is.EqualTo(2 + 16), "the live images and the retained ones are mapped");
        });

        holder.Dispose();
        Assert.That(ProcessMemoryMap.Read().Where(m => m.IsWritable && m.IsExecutable), Is.Empty);
        TestContext.Out.WriteLine($"W^X: {mappings.Count} mappings after 20 reloads, 20 re-points, 1 rollback, 1 bad call, 16 retained images: 0 writable and executable");
    }
}
