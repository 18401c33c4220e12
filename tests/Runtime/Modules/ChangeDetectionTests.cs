using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// How the runtime finds changed module files: with the kernel's reports (the default) a check examines only the files
/// reported, and every way a build can put a file in place is reported; polling examines every file every time.
/// </summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class ChangeDetectionTests : WorkbenchFixture
{
    public enum Replacement
    {
        RenameOver,
        WriteInPlace,
        DeleteThenCreate,
    }

    private HcrRuntime Runtime => Bench.Runtime;

    [Test]
    public void WithReportsACheckWithNothingChangedExaminesNoFileAndAChangeExaminesOnlyThatFile()
    {
        StartThree();
        Assert.That(Runtime.ChangeDetection, Is.EqualTo(ChangeDetection.Notify));
        long examined = Runtime.ModuleFileExaminations;

        Assert.That((Runtime.ReloadNeeded(), Runtime.ReloadNeeded(), Runtime.HasModuleChanged("b")), Is.EqualTo((false, false, false)));
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined));

        Bench.Build("b", 2, ModuleReloadTests.Module());
        Assert.That(Runtime.ReloadNeeded(), Is.True);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 1));
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "b" }));
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 3), "b again: its before-handler asks hcrHasModuleChanged, then the reload");
        Assert.That(Bench.Call("b", "value", 10), Is.EqualTo(12));
        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 3), "what the reload loaded is not examined again");
    }

    [Test]
    public void EveryWayOfPuttingANewFileInPlaceIsReported([Values] Replacement replacement)
    {
        var (v1, v2) = TwoVersionsOfA();
        File.WriteAllBytes(Bench.PathOf("a"), v1);
        Runtime.Start("a");
        long examined = Runtime.ModuleFileExaminations;
        string path = Bench.PathOf("a");

        switch (replacement)
        {
            case Replacement.RenameOver:
                File.WriteAllBytes(path + ".new", v2);
                File.Move(path + ".new", path, overwrite: true);
                break;
            case Replacement.WriteInPlace:
                File.WriteAllBytes(path, v2);
                break;
            case Replacement.DeleteThenCreate:
                File.Delete(path);
                File.WriteAllBytes(path, v2);
                break;
        }

        Assert.That(Runtime.ReloadNeeded(), Is.True);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 1));
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));
    }

    [Test]
    public void ATouchIsExaminedOnceAndIsNotAChange()
    {
        StartThree();
        long examined = Runtime.ModuleFileExaminations;

        File.SetLastWriteTimeUtc(Bench.PathOf("c"), DateTime.UtcNow.AddMinutes(1));
        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 1));
        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 1), "cleared by the examination");
    }

    [Test]
    public void PollingExaminesEveryFileAtEveryCheck()
    {
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { ChangeDetection = ChangeDetection.Poll }));
        StartThree();
        Assert.That(Runtime.ChangeDetection, Is.EqualTo(ChangeDetection.Poll));
        long examined = Runtime.ModuleFileExaminations;

        Assert.That((Runtime.ReloadNeeded(), Runtime.ReloadNeeded()), Is.EqualTo((false, false)));
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 6));

        Bench.Build("c", 2, ModuleReloadTests.Module());
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "c" }));
    }

    [Test]
    public void AModuleFileThatIsALinkIsExaminedAtEveryCheckAndItsTargetsChangeIsSeen()
    {
        var (v1, v2) = TwoVersionsOfA();
        string real = Path.Combine(Bench.Directory, "real");
        Directory.CreateDirectory(real);
        File.WriteAllBytes(Path.Combine(real, "a.so"), v1);
        File.Delete(Bench.PathOf("a"));
        File.CreateSymbolicLink(Bench.PathOf("a"), Path.Combine(real, "a.so"));
        Runtime.Start("a");
        long examined = Runtime.ModuleFileExaminations;

        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 1), "a link's directory reports the link, not its target");

        File.WriteAllBytes(Path.Combine(real, "a.so.new"), v2);
        File.Move(Path.Combine(real, "a.so.new"), Path.Combine(real, "a.so"), overwrite: true);
        Assert.That(Runtime.ReloadNeeded(), Is.True);
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));
    }

    [Test]
    public void ADirectoryReplacedByAnotherIsSeenAndWatchedAgain()
    {
        string? libraries = null;
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { ResolveModulePath = m => Path.Combine(libraries!, m + ".so") }));
        libraries = Path.Combine(Bench.Directory, "lib");
        var (v1, v2) = TwoVersionsOfA();
        Directory.CreateDirectory(libraries);
        File.WriteAllBytes(Path.Combine(libraries, "a.so"), v1);
        Runtime.Start("a");

        Directory.Move(libraries, libraries + ".old");
        Directory.CreateDirectory(libraries);
        File.WriteAllBytes(Path.Combine(libraries, "a.so"), v2);
        Assert.That(Runtime.ReloadNeeded(), Is.True);
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));

        long examined = Runtime.ModuleFileExaminations;
        Assert.That((Runtime.ReloadNeeded(), Runtime.ReloadNeeded()), Is.EqualTo((false, false)));
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined), "watched in the new directory");
    }

    [Test]
    public void ALostQueueMakesEveryModuleASuspectOnce()
    {
        StartThree();
        int queueLimit = int.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_queued_events").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assume.That(queueLimit, Is.LessThanOrEqualTo(1 << 16), "a queue this long would take too long to fill");
        long examined = Runtime.ModuleFileExaminations;

        // Unrelated names in the modules' directory: two reports each, more than the queue holds.
        string noise = Path.Combine(Bench.Directory, "noise");
        for (int i = 0; i < queueLimit / 2 + 8; i++)
        {
            File.WriteAllBytes($"{noise}{i}", []);
        }

        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 3));
        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.ModuleFileExaminations, Is.EqualTo(examined + 3));
    }

    private void StartThree()
    {
        foreach (string name in new[] { "a", "b", "c" })
        {
            Bench.Build(name, 1, ModuleReloadTests.Module());
        }

        Runtime.Start("a", "b", "c");
    }

    /// <summary>The bytes of a's versions 1 and 2 (value(x) = x + version); version 2 is left in a's place.</summary>
    private (byte[] V1, byte[] V2) TwoVersionsOfA()
    {
        byte[] v1 = File.ReadAllBytes(Bench.Build("a", 1, ModuleReloadTests.Module()));
        byte[] v2 = File.ReadAllBytes(Bench.Build("a", 2, ModuleReloadTests.Module()));
        return (v1, v2);
    }
}
