using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// Replaced images stay loaded until every registered thread has reported a quiescent state after the reload that
/// replaced them; offline threads do not hold them; the bound unloads the oldest and says which thread held them.
/// </summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class ImageRetentionTests : WorkbenchFixture
{

    private HcrRuntime Runtime => Bench.Runtime;

    private ImageRetention Retention => Bench.Runtime.Retention;

    [Test]
    public void WithNoThreadRegisteredAReplacedImageIsUnloadedAtCommit()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        string oldCopy = Runtime.GetModule("a").LoadedCopyPath!;

        Bench.Build("a", 2, ModuleReloadTests.Module());
        Runtime.PerformCodeReload();

        Assert.That((Retention.Epoch, Retention.RetainedImages, Retention.UnloadedImages, File.Exists(oldCopy)), Is.EqualTo((1L, 0, 1L, false)));
    }

    [Test]
    public void AReplacedImageStaysLoadedUntilTheRegisteredThreadReportsAQuiescentState()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        using var worker = Runtime.RegisterOnAnotherThread("worker");
        nint oldValue = Runtime.GetProcSymbol("a", "value").Target; // the v1 function itself, as a thread inside it would hold it
        string oldCopy = Runtime.GetModule("a").LoadedCopyPath!;

        Bench.Build("a", 2, ModuleReloadTests.Module());
        Runtime.PerformCodeReload();

        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12), "calls through the slot reach v2");
        Assert.That(((delegate* unmanaged<long, long>)oldValue)(10), Is.EqualTo(11), "v1 is still mapped and runs");
        Assert.That((Retention.Epoch, worker.ObservedEpoch, Retention.RetainedImages, Retention.UnloadedImages, File.Exists(oldCopy)), Is.EqualTo((1L, 0L, 1, 0L, true)));

        worker.ReportQuiescentState();

        Assert.That((worker.ObservedEpoch, Retention.RetainedImages, Retention.UnloadedImages, File.Exists(oldCopy)), Is.EqualTo((1L, 0, 1L, false)));
    }

    [Test]
    public void EachImageWaitsForEveryOnlineThreadAndOnlyForTheReloadsAfterItsLastReport()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        using var first = Runtime.RegisterOnAnotherThread("first");
        using var second = Runtime.RegisterOnAnotherThread("second");

        Reload(2); // retires v1 at epoch 1
        first.ReportQuiescentState();
        Assert.That((Retention.RetainedImages, Retention.UnloadedImages), Is.EqualTo((1, 0L)), "second has not reported");

        Reload(3); // retires v2 at epoch 2
        second.ReportQuiescentState();
        Assert.That((Retention.RetainedImages, Retention.UnloadedImages), Is.EqualTo((1, 1L)), "v1 goes; v2 waits for first, whose report predates epoch 2");

        first.ReportQuiescentState();
        Assert.That((Retention.RetainedImages, Retention.UnloadedImages), Is.EqualTo((0, 2L)));
    }

    [Test]
    public void AnOfflineOrUnregisteredThreadHoldsNothingAndTheReloadingThreadCountsAsQuiescent()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        using var self = Runtime.RegisterThread("reloader"); // this thread reloads: it is outside module code then
        var sleeper = Runtime.RegisterOnAnotherThread("sleeper");
        sleeper.GoOffline();

        Reload(2);
        Assert.That((Retention.RetainedImages, Retention.UnloadedImages, self.ObservedEpoch, sleeper.IsOnline), Is.EqualTo((0, 1L, 1L, false)));

        sleeper.GoOnline();
        Assert.That(sleeper.ObservedEpoch, Is.EqualTo(1));
        Reload(3);
        Assert.That(Retention.RetainedImages, Is.EqualTo(1), "online again, sleeper holds v2");

        sleeper.Dispose();
        Assert.That((Retention.RetainedImages, Retention.UnloadedImages, Retention.RegisteredThreads), Is.EqualTo((0, 2L, 1)));
    }

    [Test]
    public void BeyondTheBoundTheOldestImagesAreUnloadedAndTheLaggingThreadIsNamed()
    {
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { MaxRetainedGenerations = 2, QuiescenceTimeout = TimeSpan.FromMilliseconds(100) }));
        var diagnostics = new List<string>();
        Runtime.Diagnostic += (_, e) => diagnostics.Add(e.Message);
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        using var stuck = Runtime.RegisterOnAnotherThread("stuck");

        Reload(2);
        Reload(3);
        Assert.That((Retention.RetainedImages, Retention.ForcedUnloads, diagnostics.Count), Is.EqualTo((2, 0L, 0)));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Reload(4);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(100)), "the reload waited for the stuck thread first");
        Assert.That((Retention.RetainedImages, Retention.UnloadedImages, Retention.ForcedUnloads), Is.EqualTo((2, 1L, 1L)));
        Assert.That(diagnostics, Has.Count.EqualTo(1));
        Assert.That(diagnostics[0], Does.Match(
            @"^image retention: unloading 1 replaced image\(s\) \(a\.g0\.\d+\.so\) although thread 'stuck' \(managed id \d+, epoch 0\) reported no quiescent state since they were replaced, because more than 2 reloads' images waited 100 ms; "));
    }

    [Test]
    public void BeyondTheBoundAReloadWaitsForALaggingThreadThatThenReports()
    {
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { MaxRetainedGenerations = 1, QuiescenceTimeout = TimeSpan.FromSeconds(30) }));
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        using var slow = Runtime.RegisterOnAnotherThread("slow");
        Reload(2);

        // The second reload exceeds the bound and waits. The slow thread reports only once that reload has retired v2 (two
        // retained images exist only while reload 3 waits over the bound of 1), so the order is fixed by state, not by a
        // sleep; a reload that returned without waiting would find reported false, or would have forced v1 out.
        bool reported = false;
        var reporter = new Thread(() =>
        {
            SpinWait.SpinUntil(() => Retention.RetainedImages == 2);
            Volatile.Write(ref reported, true);
            slow.ReportQuiescentState();
        });
        reporter.Start();
        Reload(3);
        reporter.Join();

        Assert.That(Volatile.Read(ref reported), Is.True, "reload 3 returned only after the slow thread reported");
        Assert.That((Retention.ForcedUnloads, Retention.UnloadedImages, Retention.RetainedImages), Is.EqualTo((0L, 2L, 0)),
            "the report came after reload 3 retired v2, so it releases v1 and v2");
    }

    [Test]
    public void ARolledBackNewImageAndADroppedGlobalAlsoWaitForQuiescence()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module(datInit: """{ void* p; hcrRegisterGlobal(M, "extra", 8, NULL, &p); }"""));
        Runtime.Start("a");
        using var worker = Runtime.RegisterOnAnotherThread("worker");

        // v2 re-points "value" into itself in DatInit000, then fails in Init000: a caller may have entered v2 meanwhile.
        Bench.Build("a", 2, ModuleReloadTests.Module(counterSize: 4));
        Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload());
        Assert.That((Retention.Epoch, Retention.RetainedImages, Retention.UnloadedImages), Is.EqualTo((1L, 1, 0L)));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11));

        Reload(3); // drops "extra" and replaces v1
        Assert.That((Retention.Epoch, Retention.RetainedImages, Retention.FreedBlocks), Is.EqualTo((2L, 2, 0L)));

        worker.ReportQuiescentState();
        Assert.That((Retention.RetainedImages, Retention.UnloadedImages, Retention.FreedBlocks), Is.EqualTo((0, 2L, 1L)));
        Assert.That(Directory.GetFiles(Runtime.CopyDirectory), Has.Length.EqualTo(1), "only v3's copy is left");
    }

    [Test]
    public void OnlyTheRegisteredThreadMaySpeakForItself()
    {
        // Issue 11, defect 7: a report from another thread was accepted, so a reload could unload code the registered
        // thread was still running. The test thread registered; the dedicated thread below is another one.
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        using var self = Runtime.RegisterThread("reloader");
        using var other = OtherThreads.RegisterOnAnotherThread(() => Runtime.RegisterThread("other"));
        Reload(2); // epoch 1; this thread is marked quiescent by its own reload, "other" is not

        var report = Assert.Throws<WrongThreadException>(() => other.Registration.ReportQuiescentState())!;
        Assert.That(report.Message, Does.Match(
            @"^ReportQuiescentState was called on managed thread \d+ for thread 'other' \(managed id \d+, epoch 0\), which only that thread may call: "));
        Assert.Throws<WrongThreadException>(() => other.Registration.GoOffline());
        Assert.Throws<WrongThreadException>(() => other.Registration.GoOnline());
        Assert.That((other.ObservedEpoch, Retention.RetainedImages), Is.EqualTo((0L, 1)), "nothing was reported for it");

        other.ReportQuiescentState(); // on its own thread
        Assert.That((other.ObservedEpoch, Retention.RetainedImages), Is.EqualTo((1L, 0)));
    }

    private void Reload(int version)
    {
        Bench.Build("a", version, ModuleReloadTests.Module());
        Assert.That(Runtime.PerformCodeReload().Reloaded, Is.True);
    }
}
