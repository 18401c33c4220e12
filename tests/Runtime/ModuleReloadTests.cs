using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>Start, reload and their failures, with small C modules built by gcc (see <see cref="ModuleWorkbench"/>).</summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class ModuleReloadTests : WorkbenchFixture
{

    private HcrRuntime Runtime => Bench.Runtime;

    [Test]
    public void StartLoadsDependenciesFirstAndRunsThePassesInTheReferencesOrder()
    {
        Bench.Build("b", 1, Module());
        Bench.Build("a", 1, Module(imports: ["b"]));

        var result = Runtime.Start("a");

        Assert.That(result.ToString(), Is.EqualTo("generation 0: loaded [b, a], unloaded []"));
        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            "b.v1 HcrInit000", "a.v1 HcrInit000",
            "b.v1 DatInit000", "a.v1 DatInit000",
            "b.v1 Init000", "b.v1 top-level", "a.v1 Init000", "a.v1 top-level",
        }));
        Assert.That((Bench.Call("a", "value", 10), Bench.Call("b", "value", 10)), Is.EqualTo((11L, 11L)));
        Assert.That(Bench.ReadGlobal("a", "counter"), Is.EqualTo(100));

        var a = Runtime.GetModule("a");
        Assert.That((a.Imports, a.SignatureHash, a.Generation, a.Path, a.HandlerCount), Is.EqualTo((new[] { "b" }, "a.v1", 0L, Bench.PathOf("a"), (1, 1))));
        Assert.That(a.LoadedCopyPath, Does.StartWith(Runtime.CopyDirectory + "/a.g0.").And.EndWith(".so"));
        Assert.That(File.Exists(a.LoadedCopyPath), Is.True);
        Assert.That(Runtime.Modules.Select(m => m.Name), Is.EqualTo(new[] { "main", "a", "b" }));
    }

    [Test]
    public void ABodyChangeIsReloadedBehindTheSameSlotAndTheGlobalKeepsItsValue()
    {
        Bench.Build("b", 1, Module());
        Bench.Build("a", 1, Module(imports: ["b"]));
        Runtime.Start("a");
        Runtime.AddEventHandler(isBefore: true, () => ModuleWorkbench.LogFromHost($"main before changed={Runtime.HasModuleChanged("a")}"));
        Runtime.AddEventHandler(isBefore: false, () => ModuleWorkbench.LogFromHost($"main after changed={Runtime.HasModuleChanged("a")}"));
        nint slot = Runtime.GetProc("a", "value");
        string firstCopy = Runtime.GetModule("a").LoadedCopyPath!;
        ModuleWorkbench.TakeLog();

        Bench.Build("a", 2, Module(imports: ["b"]));
        Assert.That(Runtime.ReloadNeeded(), Is.True);
        var result = Runtime.PerformCodeReload();

        Assert.That(result.ToString(), Is.EqualTo("generation 1: loaded [a], unloaded []"));
        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            // Before handlers: the old code's, leaves first, the root last.
            "b.v1 before changed=0", "a.v1 before changed=1", "main before changed=True",
            // Passes: HcrInit000 of new code, DatInit000 of every reachable module, Init000 of new code (no top-level again).
            "a.v2 HcrInit000", "b.v1 DatInit000", "a.v2 DatInit000", "a.v2 Init000",
            // After handlers: the new code's; a is still "changed" while they run.
            "b.v1 after changed=0", "a.v2 after changed=1", "main after changed=True",
        }));
        Assert.That(Runtime.GetProc("a", "value"), Is.EqualTo(slot));
        Assert.That(((delegate* unmanaged<long, long>)slot)(10), Is.EqualTo(12));
        Assert.That(Bench.ReadGlobal("a", "counter"), Is.EqualTo(100), "the v2 initializer (200) does not run for an existing global");
        Assert.That((Runtime.Generation, Runtime.GetModule("a").Generation, Runtime.GetModule("b").Generation), Is.EqualTo((1L, 1L, 0L)));
        Assert.That(Runtime.HasModuleChanged("a"), Is.False);
        Assert.That(Runtime.ReloadNeeded(), Is.False);

        string secondCopy = Runtime.GetModule("a").LoadedCopyPath!;
        Assert.That(secondCopy, Is.Not.EqualTo(firstCopy));
        Assert.That((File.Exists(firstCopy), File.Exists(secondCopy)), Is.EqualTo((false, true)), "the replaced copy is deleted");
    }

    [Test]
    public void AReloadWithNothingChangedDoesNothing()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        ModuleWorkbench.TakeLog();

        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.PerformCodeReload(), Is.EqualTo(ReloadResult.NoChange(0)).Using<ReloadResult>(SameResult));

        File.SetLastWriteTimeUtc(Bench.PathOf("a"), DateTime.UtcNow.AddMinutes(1)); // touched, same bytes
        Assert.That(Runtime.ReloadNeeded(), Is.False);
        Assert.That(Runtime.PerformCodeReload().Reloaded, Is.False);

        Assert.That(ModuleWorkbench.TakeLog(), Is.Empty, "no handler, no pass");
        Assert.That(Runtime.Generation, Is.Zero);
    }

    [Test]
    public void ARebuildWithinTheSameSecondIsSeen()
    {
        var stamp = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc); // a coarse, whole-second time stamp
        File.SetLastWriteTimeUtc(Bench.Build("a", 1, Module()), stamp);
        Runtime.Start("a");
        long size = new FileInfo(Bench.PathOf("a")).Length;

        File.SetLastWriteTimeUtc(Bench.Build("a", 2, Module()), stamp);
        Assume.That(new FileInfo(Bench.PathOf("a")).Length, Is.EqualTo(size), "v1 and v2 differ only in a constant");

        Assert.That(Runtime.ReloadNeeded(), Is.True);
        Assert.That(Runtime.PerformCodeReload().Reloaded, Is.True);
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));
    }

    [Test]
    public void ACorruptNewVersionIsRefusedAndTheOldCodeKeepsRunning()
    {
        Bench.Build("b", 1, Module());
        Bench.Build("a", 1, Module(imports: ["b"]));
        Runtime.Start("a");
        string liveCopy = Runtime.GetModule("a").LoadedCopyPath!;
        ModuleWorkbench.TakeLog();

        Bench.Corrupt("a");
        Assert.That(Runtime.ReloadNeeded(), Is.True);
        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.That((error.Module, error.Path, error.Stage), Is.EqualTo(("a", Bench.PathOf("a"), ModuleLoadStage.Format)));
        Assert.That(error.Message, Is.EqualTo(
            $"module 'a' ({Bench.PathOf("a")}): not a loadable ELF shared library for x86-64: the file does not start with the ELF magic bytes (7F 45 4C 46)"));
        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            "b.v1 before changed=0", "a.v1 before changed=1",
            "b.v1 after changed=0", "a.v1 after changed=1", // the old code's after handlers pair its before handlers
        }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11), "the old code still runs");
        Assert.That((Runtime.Generation, Runtime.GetModule("a").LoadedCopyPath), Is.EqualTo((0L, liveCopy)));
        Assert.That(Directory.GetFiles(Runtime.CopyDirectory).Length, Is.EqualTo(2), "only the live copies of a and b");

        Bench.Build("a", 2, Module(imports: ["b"]));
        Assert.That(Runtime.PerformCodeReload().Generation, Is.EqualTo(1));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));
    }

    [Test]
    public void ANewVersionLackingAnExportIsRefused()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");

        Bench.Build("a", 2, Module(withInit000: false));
        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.MissingExport)));
        Assert.That(error.Cause, Is.EqualTo("Init000 (a module must export HcrInit000, DatInit000, Init000, HcrGetImportedModules, HcrGetSigHash)"));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11));
    }

    [Test]
    public void AnInitRefusedMidwayIsUndoneSlotsIncluded()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        nint slot = Runtime.GetProc("a", "value");
        int slotsInUse = Runtime.Table.InUse;
        ModuleWorkbench.TakeLog();

        // v2's DatInit000 re-points "value" and adds "fresh"; its Init000 then registers "counter" with another size.
        Bench.Build("a", 2, Module(counterSize: 4, datInit: """hcrRegisterProc(M, "fresh", (void*)value_actual);"""));
        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.Init)));
        Assert.That(error.Cause, Is.EqualTo(
            "Init000: hcrRegisterGlobal: global 'counter' of module 'a' was registered with 8 bytes and is now registered with 4; " +
            "a global cannot change size across a reload (rename it, or remove it in one reload and add it back in the next)"));
        Assert.That(((delegate* unmanaged<long, long>)slot)(10), Is.EqualTo(11), "the slot points at the old code again");
        Assert.That(Runtime.TryGetProc("a", "fresh", out _), Is.False);
        Assert.That(Runtime.Table.InUse, Is.EqualTo(slotsInUse));
        Assert.That((Runtime.Generation, Runtime.GetModule("a").SignatureHash, Runtime.GetModule("a").HandlerCount), Is.EqualTo((0L, "a.v1", (1, 1))));
        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            "a.v1 before changed=1", "a.v2 HcrInit000", "a.v2 DatInit000", "a.v2 Init000", "a.v1 after changed=1",
        }));
    }

    [Test]
    public void ARemovedProcsSlotReportsABadCallAndIsGivenBackOnlyToThatProc()
    {
        Bench.Build("a", 1, Module(datInit: """hcrRegisterProc(M, "old", (void*)value_actual);"""));
        Runtime.Start("a");
        nint old = Runtime.GetProc("a", "old");

        Bench.Build("a", 2, Module());
        Runtime.PerformCodeReload();

        Assert.Throws<UnknownSymbolException>(() => Runtime.GetProc("a", "old"));
        Assert.That(((delegate* unmanaged<long, long>)old)(10), Is.Zero);
        Assert.That((Runtime.Table.BadCallCount, Runtime.Table.LastBadCall!.Module, Runtime.Table.LastBadCall.Name), Is.EqualTo((1L, "a", "old")));

        // A new proc takes a never-used slot (the table has 256): old's address keeps reporting bad calls (issue 11).
        Bench.Build("a", 3, Module(datInit: """hcrRegisterProc(M, "newer", (void*)value_actual);"""));
        Runtime.PerformCodeReload();
        Assert.That(Runtime.GetProc("a", "newer"), Is.Not.EqualTo(old), "the released slot is not handed to another proc");
        Assert.That(Bench.Call("a", "newer", 10), Is.EqualTo(13));
        Assert.That((((delegate* unmanaged<long, long>)old)(10), Runtime.Table.BadCallCount), Is.EqualTo((0L, 2L)));

        // old comes back: its slot again.
        Bench.Build("a", 4, Module(datInit: """hcrRegisterProc(M, "old", (void*)value_actual);"""));
        Runtime.PerformCodeReload();
        Assert.That(Runtime.GetProc("a", "old"), Is.EqualTo(old));
        Assert.That(((delegate* unmanaged<long, long>)old)(10), Is.EqualTo(14), "value_actual of v4: 10 + 4");
    }

    [Test]
    public void ModulesNoLongerReachableAreUnloadedWithTheirGlobals()
    {
        Bench.Build("b", 1, Module());
        Bench.Build("a", 1, Module(imports: ["b"]));
        Runtime.Start("a");
        nint bValue = Runtime.GetProc("b", "value");
        string bCopy = Runtime.GetModule("b").LoadedCopyPath!;
        ModuleWorkbench.TakeLog();

        Bench.Build("a", 2, Module());
        var result = Runtime.PerformCodeReload();

        Assert.That(result.ToString(), Is.EqualTo("generation 1: loaded [a], unloaded [b]"));
        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            "b.v1 before changed=0", "a.v1 before changed=1", "a.v2 HcrInit000", "a.v2 DatInit000", "a.v2 Init000", "a.v2 after changed=1",
        }));
        Assert.That(Runtime.TryGetModule("b", out _), Is.False);
        Assert.That(File.Exists(bCopy), Is.False);
        Assert.That(((delegate* unmanaged<long, long>)bValue)(1), Is.Zero);
        Assert.That(Runtime.Table.LastBadCall!.ToString(), Does.StartWith("hcr: bad call: proc 'value' of module 'b' was removed"));
    }

    [Test]
    public void ANewImportsTopLevelCodeRunsExactlyOnce()
    {
        Bench.Build("c", 1, Module());
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        ModuleWorkbench.TakeLog();

        Bench.Build("a", 2, Module(imports: ["c"]));
        Runtime.PerformCodeReload();
        Assert.That(ModuleWorkbench.TakeLog().Where(line => line.Contains("top-level", StringComparison.Ordinal)), Is.EqualTo(new[] { "c.v1 top-level" }));

        Bench.Build("a", 3, Module(imports: ["c"]));
        Runtime.PerformCodeReload();
        Assert.That(ModuleWorkbench.TakeLog().Where(line => line.Contains("top-level", StringComparison.Ordinal)), Is.Empty);
        Assert.That(Bench.ReadGlobal("c", "counter"), Is.EqualTo(100));
    }

    [Test]
    public unsafe void WhatARolledBackReloadAddedIsGoneForTheCAbiLookupsToo()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        var getProc = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetProc");
        var getGlobal = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetGlobal");
        nint slot = Runtime.GetProc("a", "value");
        nint counter = Runtime.GetGlobal("a", "counter");

        // v2's DatInit000 adds a proc and a global, then its Init000 fails: both must be gone, through the lock-free path.
        Bench.Build("a", 2, Module(counterSize: 4, datInit: """
            hcrRegisterProc(M, "fresh", (void*)value_actual);
            void* block; hcrRegisterGlobal(M, "fresh_global", 8, NULL, &block);
            """));
        Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload());

        fixed (byte* a = "a\0"u8, value = "value\0"u8, fresh = "fresh\0"u8, freshGlobal = "fresh_global\0"u8, counterName = "counter\0"u8)
        {
            Assert.That((getProc(a, fresh), getGlobal(a, freshGlobal)), Is.EqualTo(((nint)0, (nint)0)));
            Assert.That((getProc(a, value), getGlobal(a, counterName)), Is.EqualTo((slot, counter)));
        }
    }

    [Test]
    public void AFailedStartLeavesNothingLoadedAndCanBeRetried()
    {
        Bench.Build("a", 1, Module(imports: ["nope"]));
        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;

        Assert.That(error.Message, Is.EqualTo($"module 'nope' ({Bench.PathOf("nope")}): cannot copy the library: the file does not exist"));
        Assert.That(Runtime.Modules.Select(m => m.Name), Is.EqualTo(new[] { "main" }));
        Assert.That(Directory.GetFiles(Runtime.CopyDirectory), Is.Empty);
        Assert.That(Runtime.Table.InUse, Is.EqualTo(1), "only the host's own proc");

        Bench.Build("nope", 1, Module());
        ModuleWorkbench.TakeLog();
        Assert.That(Runtime.Start("a").LoadedModules, Is.EqualTo(new[] { "nope", "a" }));
    }

    [Test]
    public void AFullJumpTableDuringInitFailsTheLoadInsteadOfTheProcess()
    {
        ReplaceBench(() => new ModuleWorkbench(jumpTableCapacity: 2)); // the host's log proc and a's value; "extra" finds no slot
        Bench.Build("a", 1, Module(datInit: """hcrRegisterProc(M, "extra", (void*)value_actual);"""));

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;

        Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.Init)));
        Assert.That(error.Cause, Is.EqualTo(
            "DatInit000: hcrRegisterProc: the jump table is full: all 2 slots are in use; give HcrRuntimeOptions.JumpTableCapacity a larger value"));
        Assert.That((Runtime.Table.InUse, Runtime.Modules.Count), Is.EqualTo((1, 1)));
    }

    [Test]
    public void HasModuleChangedAcceptsASignatureHash()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        Assert.That(Runtime.HasModuleChanged("a.v1"), Is.False);
        Bench.Build("a", 2, Module());
        Assert.That(Runtime.HasModuleChanged("a.v1"), Is.True);
        Assert.Throws<UnknownModuleException>(() => Runtime.HasModuleChanged("no-such-hash"));
    }

    /// <summary>
    /// A test module: proc <c>value(x) = x + VERSION</c>, global <c>counter</c> (100 × VERSION when new, logged as
    /// "top-level"), a before and an after handler that log whether the module has changed, and the given imports.
    /// </summary>
    internal static string Module(string[]? imports = null, bool withInit000 = true, int counterSize = 8, string datInit = "")
    {
        string importList = string.Concat((imports ?? []).Select(i => $"\"{i}\", "));
        string init = !withInit000 ? "" : $$"""
            void Init000(void) {
                LOG("%s Init000", TAG);
                if (hcrRegisterGlobal(M, "counter", {{counterSize}}, NULL, (void**)&counter)) {
                    *counter = 100 * VERSION;
                    LOG("%s top-level", TAG);
                }
                hcrAddEventHandler(true, before);
                hcrAddEventHandler(false, after);
            }
            """;
        return $$"""
            static int64_t* counter __attribute__((unused));
            static int64_t value_actual(int64_t x) { return x + VERSION; }
            static __attribute__((unused)) void before(void) { LOG("%s before changed=%d", TAG, hcrHasModuleChanged(M)); }
            static __attribute__((unused)) void after(void) { LOG("%s after changed=%d", TAG, hcrHasModuleChanged(M)); }
            void DatInit000(void) {
                LOG("%s DatInit000", TAG);
                hcrRegisterProc(M, "value", (void*)value_actual);
                {{datInit}}
            }
            {{init}}
            const char** HcrGetImportedModules(void) { static const char* imports[] = { {{importList}}"" }; return imports; }
            const char* HcrGetSigHash(void) { return TAG; }
            """;
    }

    private static bool SameResult(ReloadResult x, ReloadResult y) =>
        x.Reloaded == y.Reloaded && x.Generation == y.Generation && x.LoadedModules.SequenceEqual(y.LoadedModules) && x.UnloadedModules.SequenceEqual(y.UnloadedModules);
}
