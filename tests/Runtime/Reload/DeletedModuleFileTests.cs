using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>Issue 11, defect 6: a module file deleted after a change was seen is reported, not silently forgotten.</summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed class DeletedModuleFileTests : WorkbenchFixture
{
    private HcrRuntime Runtime => Bench.Runtime;

    [TestCase(ChangeDetection.Auto)]
    [TestCase(ChangeDetection.Poll)]
    public void ADeletedModuleFileIsReportedOnceTheLoadedVersionKeepsRunningAndALaterFileReloads(ChangeDetection detection)
    {
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { ChangeDetection = detection }));
        var diagnostics = new List<string>();
        Runtime.Diagnostic += (_, e) => diagnostics.Add(e.Message);
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        Bench.Build("a", 2, ModuleReloadTests.Module());
        Assert.That(Runtime.ReloadNeeded(), Is.True);

        File.Delete(Bench.PathOf("a"));

        Assert.That(Runtime.PerformCodeReload().Reloaded, Is.False, "nothing to load");
        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11), "v1 (value = x + 1) keeps running");
        Assert.That(diagnostics, Is.EqualTo(new[]
        {
            $"module 'a': its file {Bench.PathOf("a")} is gone (deleted, or being rebuilt); the loaded version keeps running, and a file put there later is loaded by the next reload",
        }), "said once, by the first check that found it gone");

        Bench.Build("a", 3, ModuleReloadTests.Module());
        Assert.That(Runtime.ReloadNeeded(), Is.True);
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(13));
    }
}
