using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// The trial start (<see cref="ModuleTrial.Start"/>): <c>hcrtrial --start</c> runs the start or reload in a child process
/// before the host runs any init code. What the fault guard cannot contain in the host — an <c>abort()</c>, an
/// <c>exit()</c>, a destructor that faults only after init ran, a misaligned call into the host's own .NET proc — ends
/// the child and is refused at <see cref="ModuleLoadStage.Trial"/>, with the old version running; a good version goes
/// through with its init code run once here.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe class TrialStartTests : TrialFixture
{
    public enum Fault
    {
        AbortInInit000,
        ExitInDatInit000,
        DestructorFaultsAfterInit,
        MisalignedCallOfAHostProc,
        AfterHandlerAborts,
        Init000CallsCodeThatReturnsWithItsStackOff,
    }

    private protected override ModuleTrial Trial => ModuleTrial.Start;

    [TestCase(Fault.AbortInInit000, "died of SIGABRT in Init000")]
    [TestCase(Fault.ExitInDatInit000, "ended with exit status 0 in DatInit000")]
    [TestCase(Fault.DestructorFaultsAfterInit, "died of SIGSEGV in unload")]
    [TestCase(Fault.MisalignedCallOfAHostProc, "saw module code call a host proc with a misaligned stack in DatInit000")]
    [TestCase(Fault.AfterHandlerAborts, "died of SIGABRT in an after-reload handler")]
    [TestCase(Fault.Init000CallsCodeThatReturnsWithItsStackOff, "saw module code return with its stack pointer off in Init000")]
    public void ANewVersionThatWouldEndTheHostIsRefusedBeforeItsInitRunsHere(Fault fault, string cause)
    {
        Bench.Build("b", 1, ModuleReloadTests.Module());
        Bench.Build("a", 1, ModuleReloadTests.Module(imports: ["b"]));
        Runtime.Start("a");
        *(long*)Runtime.GetGlobal("a", "counter") = 4242;
        Bench.Build("a", 2, Faulty(fault));
        ModuleWorkbench.TakeLog();

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.Multiple(() =>
        {
            Assert.That((error.Module, error.Stage, error.Fault), Is.EqualTo(("a", ModuleLoadStage.Trial, (ModuleFault?)null)));
            Assert.That(error.Message, Does.StartWith($"module 'a' ({Bench.PathOf("a")}): refused before it ran here: a trial start in a child process {cause}"));
            Assert.That(error.Message, Does.EndWith("; none of the modules' init code ran in this process"));
            // The before handlers ran (the reload began), the new code's passes did not, the old after handlers ran.
            Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
            {
                "b.v1 before changed=0", "a.v1 before changed=1", "b.v1 after changed=0", "a.v1 after changed=1",
            }));
            Assert.That((Bench.Call("a", "value", 10), Bench.Call("b", "value", 10)), Is.EqualTo((11L, 11L)), "v1 answers");
            Assert.That((Runtime.Generation, Runtime.GetModule("a").SignatureHash, Bench.ReadGlobal("a", "counter")), Is.EqualTo((0L, "a.v1", 4242L)));
        });

        Bench.Build("a", 3, ModuleReloadTests.Module(imports: ["b"]));
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(13), "a good build after the refusal reloads");
    }

    [Test]
    public void AGoodReloadRunsItsInitCodeHereOnceWhateverTheChildDid()
    {
        Bench.Build("b", 1, ModuleReloadTests.Module());
        Bench.Build("a", 1, ModuleReloadTests.Module(imports: ["b"]));
        Runtime.Start("a");
        ModuleWorkbench.TakeLog();
        Bench.Build("a", 2, ModuleReloadTests.Module(imports: ["b"]));

        var result = Runtime.PerformCodeReload();

        // The child's LOG calls reached a stub of the host's log proc (it answers 0): only this process's lines are here,
        // the same as a reload without a trial (ModuleReloadTests).
        Assert.That(result.ToString(), Is.EqualTo("generation 1: loaded [a], unloaded []"));
        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            "b.v1 before changed=0", "a.v1 before changed=1",
            "a.v2 HcrInit000", "b.v1 DatInit000", "a.v2 DatInit000", "a.v2 Init000",
            "b.v1 after changed=0", "a.v2 after changed=1",
        }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));
    }

    [Test]
    public void AStartThatWouldEndTheHostIsRefusedWithNothingLoadedAndCanStartAgain()
    {
        Bench.Build("b", 1, ModuleReloadTests.Module());
        Bench.Build("a", 1, Faulty(Fault.AbortInInit000));

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;

        Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.Trial)));
        Assert.That(error.Cause, Does.Contain("died of SIGABRT in Init000"));
        Assert.That(ModuleWorkbench.TakeLog(), Is.Empty, "no init code ran here");
        Assert.That(Runtime.Modules.Where(m => m.IsLoaded), Is.Empty);

        Bench.Build("a", 2, ModuleReloadTests.Module(imports: ["b"]));
        Runtime.Start("a");
        Assert.That((Bench.Call("a", "value", 10), Bench.Call("b", "value", 10)), Is.EqualTo((12L, 11L)));
    }

    [Test]
    public void InitCodeThatRefusesItselfIsLeftToTheHostsOwnStartAndItsTypedError()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        Bench.Build("a", 2, ModuleReloadTests.Module(datInit: "hcrFailInit(\"no config\");"));

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.That((error.Module, error.Stage, error.Cause), Is.EqualTo(("a", ModuleLoadStage.Init, "DatInit000: hcrFailInit: the module reported failure: no config")));
    }

    /// <summary>Module <c>a</c> v2 (importing <c>b</c>), broken in a way the fault guard cannot contain in the host.</summary>
    private static string Faulty(Fault fault) => fault switch
    {
        Fault.AbortInInit000 => "#include <stdlib.h>\n" + ModuleReloadTests.Module(imports: ["b"])
            .Replace("void Init000(void) {", "void Init000(void) { abort();", StringComparison.Ordinal),
        Fault.ExitInDatInit000 => "#include <stdlib.h>\n" + ModuleReloadTests.Module(imports: ["b"], datInit: "exit(0);"),
        // Init000 leaves a pointer the destructor writes through: harmless until init has run (a trial load passes it).
        Fault.DestructorFaultsAfterInit => "static int* volatile left_by_init;\n__attribute__((destructor)) static void broken(void) { if (left_by_init) *left_by_init = 1; }\n"
            + ModuleReloadTests.Module(imports: ["b"]).Replace("void Init000(void) {", "void Init000(void) { left_by_init = (int*)8;", StringComparison.Ordinal),
        Fault.MisalignedCallOfAHostProc => ChildScenarios.MisalignedCallSource
            + ModuleReloadTests.Module(imports: ["b"], datInit: "call_misaligned((void*)host_log, \"misaligned\", NULL, NULL);"),
        Fault.AfterHandlerAborts => "#include <stdlib.h>\n" + ModuleReloadTests.Module(imports: ["b"])
            .Replace("static __attribute__((unused)) void after(void) {", "static __attribute__((unused)) void after(void) { abort();", StringComparison.Ordinal),
        _ => ChildScenarios.BrokenAbiSource + ModuleReloadTests.Module(imports: ["b"])
            .Replace("void Init000(void) {", "void Init000(void) { stack_off();", StringComparison.Ordinal),
    };
}
