using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// The trial load (<see cref="ModuleTrial.Load"/>): a new version whose ELF constructor or destructor faults,
/// or that makes the dynamic loader end the process, is refused after a load in a child process, where the fault guard
/// could not have helped (inside <c>dlopen</c>/<c>dlclose</c>), and the old version keeps running.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe class TrialLoadTests : TrialFixture
{
    public enum Fault
    {
        ConstructorWritesNull,
        DestructorExecutesUd2,
        ConstructorExitsLikeTheLoader,
        DestructorReturnsWithItsStackOff,
        DestructorChangesRbx,
    }

    private protected override ModuleTrial Trial => ModuleTrial.Load;

    [TestCase(Fault.ConstructorWritesNull, "died of SIGSEGV: its constructors or destructors fault")]
    [TestCase(Fault.DestructorExecutesUd2, "died of SIGILL: its constructors or destructors fault")]
    [TestCase(Fault.ConstructorExitsLikeTheLoader, "made the dynamic loader give up (exit 127)")]
    [TestCase(Fault.DestructorReturnsWithItsStackOff, "saw module code return with its stack pointer off")]
    [TestCase(Fault.DestructorChangesRbx, "saw module code return with a callee-saved register changed")]
    public void ANewVersionThatWouldEndTheProcessInsideTheLoaderIsRefused(Fault fault, string cause)
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        string code = fault switch
        {
            // Through a volatile pointer: gcc deletes a function that writes through a constant NULL on every path.
            Fault.ConstructorWritesNull => "static int* volatile nowhere;\n__attribute__((constructor)) static void broken(void) { *nowhere = 1; }",
            Fault.DestructorExecutesUd2 => "__attribute__((destructor)) static void broken(void) { __builtin_trap(); }",
            Fault.ConstructorExitsLikeTheLoader => "#include <unistd.h>\n__attribute__((constructor)) static void broken(void) { _exit(127); }",
            // Straight into the fini array: gcc would wrap a destructor function in a frame of its own.
            Fault.DestructorReturnsWithItsStackOff => ChildScenarios.BrokenAbiSource + "__attribute__((section(\".fini_array\"), used)) static void (*broken)(void) = stack_off;",
            _ => ChildScenarios.BrokenAbiSource + "__attribute__((section(\".fini_array\"), used)) static void (*broken)(void) = clobbers_rbx;",
        };
        Bench.Build("a", 2, code + "\n" + ModuleReloadTests.Module());

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.Multiple(() =>
        {
            Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.Load)));
            Assert.That(error.Message, Does.StartWith($"module 'a' ({Bench.PathOf("a")}): ").And.Contain("a trial load in a child process " + cause));
            Assert.That(error.Message, Does.EndWith("it is not loaded into this process"));
            Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11), "v1 answers");
            Assert.That((Runtime.Generation, Runtime.GetModule("a").SignatureHash), Is.EqualTo((0L, "a.v1")));
            Assert.That(Directory.GetFiles(Runtime.CopyDirectory), Has.Length.EqualTo(1), "only v1's copy");
        });

        Bench.Build("a", 3, ModuleReloadTests.Module());
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(13), "a good build after the refusal reloads");
    }

    [Test]
    public void ALibraryTheChildCannotLoadIsLeftToTheHostsOwnLoader()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        Bench.Build("a", 2, "extern int hcrlab_no_such_symbol;\nint use_it(void) { return hcrlab_no_such_symbol; }\n" + ModuleReloadTests.Module());

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.That(error.Stage, Is.EqualTo(ModuleLoadStage.Load));
        Assert.That(error.Cause, Does.Contain("undefined symbol: hcrlab_no_such_symbol").And.Not.Contain("trial"));
    }
}
