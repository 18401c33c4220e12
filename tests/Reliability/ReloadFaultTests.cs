using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// A reload of two modules (a imports b, both rebuilt) in which one new version is faulty is refused as a whole: both
/// stay at v1 and keep running, their globals keep their values, nothing the new code registered survives, and the
/// error names the module and the cause. The single-module cases are in <see cref="ModuleReloadTests"/>.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe class ReloadFaultTests : WorkbenchFixture
{
    private const string AddsAGlobal = """{ void* p; hcrRegisterGlobal(M, "added", 8, NULL, &p); }""";


    private HcrRuntime Runtime => Bench.Runtime;

    public enum Fault
    {
        ImportsAMissingFile,
        Truncated,
        Empty,
        NotElf,
        UnresolvedSymbol,
        ExportMissing,
        InitReportsFailure,
        InitRefused,
    }

    [Test]
    public void AFaultyNewVersionRollsBackTheWholeReload([Values] Fault fault, [Values("a", "b")] string faulty)
    {
        Bench.Build("b", 1, ModuleReloadTests.Module());
        Bench.Build("a", 1, ModuleReloadTests.Module(imports: ["b"]));
        Runtime.Start("a");
        *(long*)Runtime.GetGlobal("a", "counter") = 4242;
        *(long*)Runtime.GetGlobal("b", "counter") = 4343;
        int slots = Runtime.Table.InUse;
        nint aValue = Runtime.GetProc("a", "value");

        Bench.Build("b", 2, Good("b"));
        Bench.Build("a", 2, Good("a"));
        var (module, stage, cause) = Inflict(fault, faulty);
        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.Multiple(() =>
        {
            Assert.That((error.Module, error.Stage), Is.EqualTo((module, stage)), error.Message);
            Assert.That(error.Cause, Does.Contain(cause));
            Assert.That(error.Message, Does.StartWith($"module '{module}' ("));
            Assert.That((Bench.Call("a", "value", 10), Bench.Call("b", "value", 10)), Is.EqualTo((11L, 11L)), "both at v1");
            Assert.That(((delegate* unmanaged<long, long>)aValue)(10), Is.EqualTo(11), "through the slot the host already held");
            Assert.That((Runtime.Generation, Runtime.GetModule("a").SignatureHash, Runtime.GetModule("b").SignatureHash), Is.EqualTo((0L, "a.v1", "b.v1")));
            Assert.That((Bench.ReadGlobal("a", "counter"), Bench.ReadGlobal("b", "counter")), Is.EqualTo((4242L, 4343L)), "globals untouched");
            Assert.That((Runtime.TryGetGlobal("a", "added", out _), Runtime.TryGetGlobal("b", "added", out _)), Is.EqualTo((false, false)));
            Assert.That((Runtime.Table.InUse, Runtime.Modules.Count), Is.EqualTo((slots, 3)));
            Assert.That(Directory.GetFiles(Runtime.CopyDirectory), Has.Length.EqualTo(2), "only the live copies of a and b");
        });

        Bench.Build(faulty, 3, Good(faulty));
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EquivalentTo(new[] { "a", "b" }));
        Assert.That((Bench.Call("a", "value", 10), Bench.Call("b", "value", 10)), Is.EqualTo(faulty == "a" ? (13L, 12L) : (12L, 13L)));
        Assert.That((Bench.ReadGlobal("a", "counter"), Bench.ReadGlobal("b", "counter")), Is.EqualTo((4242L, 4343L)));
    }

    /// <summary>
    /// What a host sees when a new version faults inside its init function: a refused reload. The fault guard contains
    /// the SIGSEGV of v2's Init000, the reload rolls back and v1 answers again (in a child process, so that a regression
    /// kills the child and not the test run). <see cref="FaultGuardTests"/> has the other signals and the guard off.
    /// </summary>
    [Test]
    public void ANewVersionThatFaultsInItsInitIsRefusedAndTheHostLivesOn()
    {
        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "crash-at-init");

        Assert.That((child.ExitCode, child.Crashed), Is.EqualTo((0, false)), child.ToString());
        Assert.That(child.OutputLines, Has.Length.EqualTo(4), child.ToString());
        Assert.That(child.OutputLines[..2], Is.EqualTo(new[] { "v1 running: value(10) = 11", "reloading a v2, whose Init000 writes through NULL" }));
        Assert.That(child.OutputLines[2], Does.Match(
            "^reload refused: module 'a' \\(/.+/a\\.so\\): initialisation failed: Init000 faulted: SIGSEGV \\(SEGV_MAPERR: address not mapped\\) " +
            "at address 0x0, pc 0x[0-9a-f]+ \\(a\\.g1\\.\\d+\\.so\\+0x[0-9a-f]+\\); the library stays mapped and is never unloaded \\(its code stopped halfway\\)$"));
        Assert.That(child.OutputLines[3], Is.EqualTo("v1 still running: value(10) = 11"));
    }

    private static string Good(string module) => ModuleReloadTests.Module(imports: module == "a" ? ["b"] : null, datInit: AddsAGlobal);

    /// <summary>Replaces <paramref name="faulty"/>'s new version by a faulty one; returns the error expected.</summary>
    private (string Module, ModuleLoadStage Stage, string Cause) Inflict(Fault fault, string faulty)
    {
        string[]? imports = faulty == "a" ? ["b"] : null;
        string path = Bench.PathOf(faulty);
        switch (fault)
        {
            case Fault.ImportsAMissingFile:
                Bench.Build(faulty, 2, ModuleReloadTests.Module(imports: [.. imports ?? [], "gone"]));
                return ("gone", ModuleLoadStage.Copy, "the file does not exist");
            case Fault.Truncated:
                using (var file = new FileStream(path, FileMode.Open))
                {
                    file.SetLength(file.Length / 2);
                }

                return (faulty, ModuleLoadStage.Format, "past the end of the file");
            case Fault.Empty:
                File.WriteAllBytes(path, []);
                return (faulty, ModuleLoadStage.Format, "the file is empty");
            case Fault.NotElf:
                Bench.Corrupt(faulty);
                return (faulty, ModuleLoadStage.Format, "the file does not start with the ELF magic bytes");
            case Fault.UnresolvedSymbol:
                Bench.Build(faulty, 2, "extern int64_t hcr_no_such_function(void);\n" +
                    ModuleReloadTests.Module(imports, datInit: "hcr_no_such_function();"));
                return (faulty, ModuleLoadStage.Load, "undefined symbol: hcr_no_such_function");
            case Fault.ExportMissing:
                Bench.Build(faulty, 2, ModuleReloadTests.Module(imports, withInit000: false));
                return (faulty, ModuleLoadStage.MissingExport, "Init000 (a module must export");
            case Fault.InitReportsFailure:
                Bench.Build(faulty, 2, ModuleReloadTests.Module(imports, datInit: AddsAGlobal + """hcrFailInit("its settings file is missing");"""));
                return (faulty, ModuleLoadStage.Init, "DatInit000: hcrFailInit: the module reported failure: its settings file is missing");
            case Fault.InitRefused:
                Bench.Build(faulty, 2, ModuleReloadTests.Module(imports, counterSize: 4, datInit: AddsAGlobal));
                return (faulty, ModuleLoadStage.Init, "Init000: hcrRegisterGlobal: global 'counter' of module '" + faulty + "' was registered with 8 bytes and is now registered with 4");
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }
}
