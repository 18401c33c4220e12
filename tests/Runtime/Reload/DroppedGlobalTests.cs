using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// Issue 11, defect 2: a global a reload drops while an unchanged importer holds its address is never freed under it.
/// </summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class DroppedGlobalTests : WorkbenchFixture
{
    /// <summary>b stores a's global "g" in DatInit000 (as hcr.h and Nim re-resolve imports), and reads and writes it through "use".</summary>
    private const string Importer = """
        static int64_t* a_g;
        static int64_t use(int64_t add) { if (a_g == NULL) return -1; *a_g += add; return *a_g; }
        void DatInit000(void) { hcrRegisterProc(M, "use", (void*)use); a_g = hcrGetGlobal("a", "g"); }
        void Init000(void) {}
        const char** HcrGetImportedModules(void) { static const char* imports[] = { "a", "" }; return imports; }
        const char* HcrGetSigHash(void) { return TAG; }
        """;

    private const string RegistersG = """{ int64_t* g; if (hcrRegisterGlobal(M, "g", 8, NULL, (void**)&g)) *g = 7; }""";

    private HcrRuntime Runtime => Bench.Runtime;

    [Test]
    public void ADroppedGlobalAnUnchangedImporterHoldsStaysAllocatedUntilTheImporterLooksAgain()
    {
        var diagnostics = new List<string>();
        Runtime.Diagnostic += (_, e) => diagnostics.Add(e.Message);
        Bench.Build("a", 1, ModuleReloadTests.Module(datInit: RegistersG));
        Bench.Build("b", 1, Importer);
        Runtime.Start("b");
        Assert.That(Bench.Call("b", "use", 1), Is.EqualTo(8), "7 from a's initializer, + 1");

        // v2 drops g. b is unchanged; its DatInit000 runs again during the reload and finds g, which still exists then.
        Bench.Build("a", 2, ModuleReloadTests.Module());
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));

        // Before the fix the block was freed at commit: glibc's free writes its list pointer over the first 8 bytes, so
        // b read a heap pointer instead of 8 and its write corrupted the heap. Kept, the block still holds 8 (+ 1 = 9).
        Assert.That(Bench.Call("b", "use", 1), Is.EqualTo(9));
        Assert.That(Runtime.Retention.FreedBlocks, Is.Zero);
        Assert.That(diagnostics, Has.Some.EqualTo(
            "global 'g' of module 'a' was dropped by this reload, but module(s) 'b' looked it up and still hold its address; " +
            "its memory stays allocated (no longer registered) until they are reloaded or unloaded, or look it up again"));
        Assert.That(() => Runtime.GetGlobal("a", "g"), Throws.TypeOf<UnknownSymbolException>(), "dropped: no longer registered");

        // The next reload runs b's DatInit000 again: it looks g up, gets NULL, and so holds the block no more.
        Bench.Build("a", 3, ModuleReloadTests.Module());
        Runtime.PerformCodeReload();
        Assert.That((Bench.Call("b", "use", 1), Runtime.Retention.FreedBlocks), Is.EqualTo((-1L, 1L)));
    }

    [Test]
    public void ADroppedGlobalIsFreedWhenItsLastHolderIsUnloaded()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module(datInit: RegistersG));
        Bench.Build("b", 1, Importer);
        Bench.Build("top", 1, ModuleReloadTests.Module(imports: ["b"]));
        Runtime.Start("top");

        Bench.Build("a", 2, ModuleReloadTests.Module());
        Runtime.PerformCodeReload();
        Assert.That(Runtime.Retention.FreedBlocks, Is.Zero, "b holds g");

        // top stops importing b (and imports a itself): b is unloaded without running its init code again, and g goes with it.
        Bench.Build("top", 2, ModuleReloadTests.Module(imports: ["a"]));
        Assert.That(Runtime.PerformCodeReload().UnloadedModules, Is.EqualTo(new[] { "b" }));
        Assert.That(Runtime.Retention.FreedBlocks, Is.EqualTo(1));
    }
}
