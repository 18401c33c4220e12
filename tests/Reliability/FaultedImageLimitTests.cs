using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// Libraries whose code faulted stay mapped for good (their code stopped halfway): about 5 mappings and 33 KB each, so
/// a host whose reloads keep faulting in <c>Init000</c> would reach <c>vm.max_map_count</c> after about 13,000. The
/// runtime keeps at most <see cref="HcrRuntimeOptions.MaxFaultedImages"/> of them in the process; beyond it no library
/// is loaded (<see cref="ModuleLoadStage.Limit"/>) and the old code keeps running.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe class FaultedImageLimitTests : WorkbenchFixture
{
    [Test]
    public void ReloadsBeyondTheLimitOfFaultedLibrariesAreRefusedBeforeTheyLoadAnything()
    {
        // Earlier tests' faulted libraries are mapped in this process too: the limit counts the process's, so allow 3 more.
        int limit = ModuleLibrary.FaultedImages + 3;
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { MaxFaultedImages = limit }));
        var runtime = Bench.Runtime;
        Bench.Build("a", 1, ModuleReloadTests.Module());
        runtime.Start("a");

        string faulty = ModuleReloadTests.Module().Replace("void Init000(void) {", "void Init000(void) { *(volatile int*)0 = 1;", StringComparison.Ordinal);
        for (int version = 2; version <= 4; version++)
        {
            Bench.Build("a", version, faulty);
            var fault = Assert.Throws<ModuleLoadException>(() => runtime.PerformCodeReload())!;
            Assert.That((fault.Stage, fault.Fault?.Function), Is.EqualTo((ModuleLoadStage.Init, "Init000")), $"v{version} faults in Init000");
        }

        // Every refused reload restores generation 0, so each faulted copy is named a.g1.*: three stay mapped.
        Assert.That(FaultGuardTests.MappedCopies(runtime, "a.g1."), Has.Count.EqualTo(3));
        Assert.That(ModuleLibrary.FaultedImages, Is.EqualTo(limit));

        foreach (var (version, source) in new[] { (5, faulty), (6, ModuleReloadTests.Module()) })
        {
            Bench.Build("a", version, source);
            var refused = Assert.Throws<ModuleLoadException>(() => runtime.PerformCodeReload())!;

            Assert.That((refused.Module, refused.Stage, refused.Fault), Is.EqualTo(("a", ModuleLoadStage.Limit, (ModuleFault?)null)), $"v{version}");
            Assert.That(refused.Cause, Is.EqualTo($"{limit} libraries whose code faulted stay mapped in this process (HcrRuntimeOptions.MaxFaultedImages); restart the process to load more"));
        }

        Assert.That(FaultGuardTests.MappedCopies(runtime, "a.g1."), Has.Count.EqualTo(3), "nothing more was mapped");
        Assert.That((Bench.Call("a", "value", 10), runtime.Generation), Is.EqualTo((11L, 0L)), "v1 answers");
    }
}
