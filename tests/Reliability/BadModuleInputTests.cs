using System.Text;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// Bad input from modules: mutated library files (in child processes, crashes counted), malformed import lists,
/// globals of size 0 and of absurd sizes, a full jump table, names that are not UTF-8. Each ends in a typed error or a
/// correct result, and the counts are printed.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe class BadModuleInputTests
{
    private ModuleWorkbench _bench = null!;

    private HcrRuntime Runtime => _bench.Runtime;

    [OneTimeSetUp]
    public void RequireGcc() => ModuleWorkbench.RequireGcc();

    [SetUp]
    public void CreateBench() => _bench = new ModuleWorkbench(jumpTableCapacity: 64);

    [TearDown]
    public void DisposeBench() => _bench.Dispose();

    [Test]
    public void MutatedLibrariesAreRefusedLoadCorrectlyOrHaveTheirCrashesCounted()
    {
        const int perKind = 25;
        var report = LibraryFuzz.Run(LibraryFuzz.Original(_bench), perKind, seed: 1, perFileTimeout: TimeSpan.FromSeconds(2));
        TestContext.Out.WriteLine(report);

        Assert.Multiple(() =>
        {
            Assert.That(report.Total, Is.EqualTo(1 + (4 * perKind)));
            Assert.That(report.Untyped, Is.Empty, "every refusal is a ModuleLoadException");
            Assert.That(report.Count(FuzzOutcome.Hung), Is.Zero);
            Assert.That(report.Count(FuzzOutcome.Refused, "zero-length"), Is.EqualTo(1));
            Assert.That(report.Count(FuzzOutcome.Refused, "random-bytes"), Is.EqualTo(perKind));
            Assert.That(report.Count(FuzzOutcome.Refused, "elf-header"), Is.EqualTo(perKind), "a real header over random bytes");

            // The ELF check makes truncation harmless: a cut inside a segment is refused, a cut after them loads.
            Assert.That(report.Count(FuzzOutcome.Crashed, "truncated") + report.Count(FuzzOutcome.OtherAnswer, "truncated"), Is.Zero);

            // Flipped bytes in relocations or code can still kill the process inside dlopen or init: counted, not hidden.
            Assert.That(report.Count(FuzzOutcome.Crashed, "flipped-bytes"), Is.LessThan(perKind));
        });
    }

    [Test]
    public void WithTheTrialStartNoMutatedLibraryEndsItsProcess()
    {
        const int perKind = 25;
        ChildScenarios.Trial = ModuleTrial.Start;
        FuzzReport report;
        try
        {
            report = LibraryFuzz.Run(LibraryFuzz.Original(_bench), perKind, seed: 1, perFileTimeout: TimeSpan.FromSeconds(10));
        }
        finally
        {
            ChildScenarios.Trial = ModuleTrial.None;
        }

        TestContext.Out.WriteLine(report);
        Assert.Multiple(() =>
        {
            Assert.That(report.Total, Is.EqualTo(1 + (4 * perKind)));
            Assert.That(report.Untyped, Is.Empty);
            Assert.That((report.Count(FuzzOutcome.Crashed), report.Count(FuzzOutcome.Hung)), Is.EqualTo((0, 0)));
            Assert.That(report.RefusedByStage.GetValueOrDefault("Trial"), Is.GreaterThan(0), "the trial start refused some, so it ran");
        });
    }

    [TestCase("cycle", TestName = "ImportCycle")]
    [TestCase("self", TestName = "SelfImport")]
    [TestCase("missing", TestName = "MissingImport")]
    [TestCase("long-name", TestName = "TenThousandCharacterImport")]
    [TestCase("not-utf8", TestName = "NotUtf8Import")]
    [TestCase("root", TestName = "RootImport")]
    public void MalformedImportListsEndInATypedErrorOrACorrectLoad(string kind)
    {
        string longName = new('x', 10_000);
        switch (kind)
        {
            case "cycle":
                _bench.Build("b", 1, ModuleReloadTests.Module(imports: ["a"]));
                _bench.Build("a", 1, ModuleReloadTests.Module(imports: ["b"]));
                Assert.That(Runtime.Start("a").LoadedModules, Is.EqualTo(new[] { "b", "a" }), "each module once, the cycle cut where it closes");
                Assert.That((_bench.Call("a", "value", 1), _bench.Call("b", "value", 1)), Is.EqualTo((2L, 2L)));
                _bench.Build("b", 2, ModuleReloadTests.Module(imports: ["a"]));
                Assert.That(Runtime.PerformCodeReload().ToString(), Is.EqualTo("generation 1: loaded [b], unloaded []"));
                break;
            case "self":
                _bench.Build("a", 1, ModuleReloadTests.Module(imports: ["a"]));
                Assert.That(Runtime.Start("a").LoadedModules, Is.EqualTo(new[] { "a" }));
                Assert.That(_bench.Call("a", "value", 1), Is.EqualTo(2));
                break;
            case "missing":
                _bench.Build("a", 1, ModuleReloadTests.Module(imports: ["gone"]));
                Assert.That(Refusal(), Is.EqualTo(("gone", ModuleLoadStage.Copy, "the file does not exist")));
                break;
            case "long-name":
                _bench.Build("a", 1, ModuleReloadTests.Module(imports: [longName]));
                var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;
                Assert.That((error.Module, error.Stage, error.Cause), Is.EqualTo((longName, ModuleLoadStage.Copy, "the file does not exist")));
                break;
            case "not-utf8":
                _bench.Build("a", 1, ModuleReloadTests.Module(imports: ["ok", "\\xff\\xfe"]));
                Assert.That(Refusal(), Is.EqualTo(("a", ModuleLoadStage.Metadata, "import 1 is not valid UTF-8 (FFFE)")));
                break;
            case "root":
                _bench.Build("a", 1, ModuleReloadTests.Module(imports: ["main"]));
                Assert.That(Refusal(), Is.EqualTo(("main", ModuleLoadStage.Copy, "the root module is the host and cannot be imported")));
                break;
        }

        if (kind is not ("cycle" or "self"))
        {
            Assert.That((Runtime.IsStarted, Runtime.Modules.Count, Directory.GetFiles(Runtime.CopyDirectory).Length), Is.EqualTo((false, 1, 0)), "nothing stays loaded");
        }
    }

    /// <summary>
    /// Metadata pointers into unreadable memory are typed errors, with the exact extent of the readable bytes: the
    /// runtime reads them through the kernel (process_vm_readv), which must agree with what /proc/self/maps says.
    /// </summary>
    [TestCase("list-unreadable", "HcrGetImportedModules returned a list whose entry 0 (at 0x10) is not in readable memory")]
    [TestCase("entry-unreadable", "import 0 points at 0x20, which is not readable memory")]
    [TestCase("second-entry-unreadable", "HcrGetImportedModules returned a list whose entry 1 (at PAGE_END) is not in readable memory")]
    [TestCase("hash-unterminated", "the signature hash has no terminating NUL within 10 readable bytes")]
    [TestCase("hash-across-pages", "")]
    public void MetadataPointersIntoUnreadableMemoryAreTypedErrors(string kind, string cause)
    {
        // Two pages: the first readable, the second PROT_NONE, so a read running off the first must stop at its end.
        string source = $$"""
            #include <sys/mman.h>
            #include <string.h>
            void DatInit000(void) { }
            void Init000(void) { }
            static char* two_pages(void) {
                static char* p;
                if (!p) {
                    p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                    memset(p, 'x', 4096);
                    mprotect(p + 4096, 4096, PROT_NONE);
                }
                return p;
            }
            const char** HcrGetImportedModules(void) {
                static const char* none[] = { "" };
                const char* kind = "{{kind}}";
                if (!strcmp(kind, "list-unreadable")) return (const char**)16;
                if (!strcmp(kind, "entry-unreadable")) { static const char* bad[] = { (const char*)32, "" }; return bad; }
                if (!strcmp(kind, "second-entry-unreadable")) {
                    const char** list = (const char**)(two_pages() + 4096 - sizeof(char*));
                    *list = "b";  /* entry 0 is the page's last word; entry 1 is in the PROT_NONE page */
                    return list;
                }
                return none;
            }
            const char* HcrGetSigHash(void) {
                const char* kind = "{{kind}}";
                if (!strcmp(kind, "hash-unterminated")) return two_pages() + 4096 - 10;
                if (!strcmp(kind, "hash-across-pages")) {
                    static char* text;
                    if (!text) {
                        text = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        memset(text, 'h', 5000);
                        text[5000] = 0;
                    }
                    return text + 4000;
                }
                return "hash";
            }
            """;
        _bench.Build("b", 1, ModuleReloadTests.Module());
        string path = _bench.Build("a", 1, source);
        if (cause.Length == 0)
        {
            Runtime.Start("a");
            Assert.That(Runtime.GetModule("a").SignatureHash, Is.EqualTo(new string('h', 1000)), "a string that crosses a page boundary is read whole");
            return;
        }

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;
        Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.Metadata)), path);
        if (cause.Contains("PAGE_END", StringComparison.Ordinal))
        {
            Assert.That(error.Cause, Does.Match(@"^HcrGetImportedModules returned a list whose entry 1 \(at 0x[0-9a-f]+000\) is not in readable memory$"));
        }
        else
        {
            Assert.That(error.Cause, Is.EqualTo(cause));
        }
    }

    [Test]
    public void GlobalsOfSizeZeroAreRealAndAbsurdSizesAreRefused()
    {
        Runtime.AddModule("g");
        var zero = Runtime.RegisterGlobal("g", "zero", 0);
        var again = Runtime.RegisterGlobal("g", "zero", 0);
        Assert.That((zero.IsNew, (long)zero.Address % 16, again.IsNew, again.Address), Is.EqualTo((true, 0L, false, zero.Address)));

        ulong limit = Runtime.Options.MaxGlobalSize;
        ulong[] absurd = [limit + 1, 1UL << 40, 1UL << 63, ulong.MaxValue - 15, ulong.MaxValue];
        var random = new Random(7);
        var sizes = absurd.Concat(Enumerable.Range(0, 995).Select(_ => limit + 1 + (ulong)random.NextInt64(long.MaxValue))).ToList();
        int refused = 0;
        foreach (ulong size in sizes)
        {
            var error = Assert.Throws<GlobalTooLargeException>(() => Runtime.RegisterGlobal("g", $"big{refused}", size))!;
            Assert.That((error.RequestedSize, error.MaxSize), Is.EqualTo((size, limit)));
            refused++;
        }

        TestContext.Out.WriteLine($"globals: size 0 registered twice, {refused} absurd sizes refused");
        Assert.That((refused, Runtime.GetModule("g").GlobalCount), Is.EqualTo((1000, 1)));
    }

    [Test]
    public void AGlobalOfAbsurdSizeFromAModuleFailsItsLoadWithTheSize()
    {
        _bench.Build("a", 1, ModuleReloadTests.Module(datInit: """{ void* p; hcrRegisterGlobal(M, "huge", (size_t)-1, NULL, &p); }"""));
        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;
        Assert.That((error.Module, error.Stage, error.Cause), Is.EqualTo(("a", ModuleLoadStage.Init,
            "DatInit000: hcrRegisterGlobal: global 'huge' of module 'a' asks for 18446744073709551615 bytes; the limit is 1073741824 (HcrRuntimeOptions.MaxGlobalSize)")));
    }

    [Test]
    public void AFullJumpTableRefusesEveryNewNameAndKeepsWorking()
    {
        _bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        Runtime.AddModule("host");
        nint target = Runtime.GetProcSymbol("a", "value").Target;
        int registered = 0;
        while (Runtime.Table.InUse < Runtime.Table.Capacity)
        {
            Runtime.RegisterProc("host", $"p{registered++}", target);
        }

        int refused = 0;
        for (int i = 0; i < 1000; i++)
        {
            Assert.Throws<JumpTableFullException>(() => Runtime.RegisterProc("host", $"extra{i}", target));
            refused++;
        }

        TestContext.Out.WriteLine($"jump table: {registered} procs filled it, {refused} more refused");
        Assert.That((Runtime.Table.InUse, refused), Is.EqualTo((64, 1000)));
        Assert.That((_bench.Call("a", "value", 1), _bench.Call("host", "p0", 1)), Is.EqualTo((2L, 2L)), "existing slots still work");
        Runtime.RegisterProc("host", "p0", target);
        _bench.Build("a", 2, ModuleReloadTests.Module());
        Assert.That(Runtime.PerformCodeReload().Reloaded, Is.True, "a reload that needs no new slot still goes through");
    }

    [Test]
    public void NamesThatAreNotUtf8OrAreHugeGetNullFromTheCAbiLookups()
    {
        var getProc = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetProc");
        var getGlobal = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetGlobal");
        var random = new Random(11);
        int tried = 0;
        for (int i = 0; i < 1000; i++)
        {
            byte[] module = Name(random, i % 10 == 0 ? 10_000 : random.Next(1, 64));
            byte[] name = Name(random, random.Next(1, 64));
            fixed (byte* m = module, n = name)
            {
                Assert.That((getProc(m, n), getGlobal(m, n)), Is.EqualTo(((nint)0, (nint)0)));
                tried++;
            }
        }

        TestContext.Out.WriteLine($"C ABI lookups: {tried} random byte names answered NULL");
        // Random bytes are rarely UTF-8: refused as such (issue 11), else an unknown module.
        Assert.That(Runtime.LastDiagnostic, Does.Match("^hcrGetGlobal: (unknown module|the (module name|name) is not valid UTF-8)"));
    }

    /// <summary>Random non-zero bytes (often not UTF-8) and a terminating zero.</summary>
    private static byte[] Name(Random random, int length)
    {
        byte[] bytes = new byte[length + 1];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)random.Next(1, 256);
        }

        return bytes;
    }

    private (string Module, ModuleLoadStage Stage, string Cause) Refusal()
    {
        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;
        return (error.Module, error.Stage, error.Cause);
    }
}
