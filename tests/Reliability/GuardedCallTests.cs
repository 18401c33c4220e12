using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// The host's own calls into module code through <see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/>: the proc's
/// exact answer, or a <see cref="ModuleFaultException"/> naming the module, the signal, the fault address and the PC,
/// after which the module keeps answering, reloads, and the library that faulted is never unloaded.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe class GuardedCallTests : WorkbenchFixture
{
    /// <summary>Two procs more for <see cref="ModuleReloadTests.Module"/>: one writes through NULL, one divides.</summary>
    private const string Procs = """
        static int64_t crash(int64_t x) { *(volatile int64_t*)0 = x; return x; }
        static int64_t divide(int64_t x, int64_t y) { return x / y; }

        """;

    private const string KeptMapped = "the library stays mapped and is never unloaded \\(its code stopped halfway\\)";

    // Read with Volatile.Read: the JIT cannot know it is null, so the dereference is a load that faults (SIGSEGV), not a throw.
    private static string? s_null = null;

    private HcrRuntime Runtime => Bench.Runtime;

    [Test]
    public void AGuardedCallAnswersWhatTheProcAnswers()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");

        Assert.Multiple(() =>
        {
            Assert.That(Runtime.CallGuarded(Runtime.GetProc("a", "value"), 10), Is.EqualTo((nint)11));
            Assert.That(Runtime.CallGuarded("a", "value", 10), Is.EqualTo((nint)11));
            Assert.That(Runtime.CallGuarded("a", "value", -12), Is.EqualTo((nint)(-11)));
            Assert.That(Runtime.CallGuarded("a", "divide", 84, 2), Is.EqualTo((nint)42), "the second argument is passed");
        });

        // The control for the faults below: a library whose code did not fault is unloaded when a reload replaces it.
        Bench.Build("a", 2, Module());
        Runtime.PerformCodeReload();
        Assert.That((Runtime.CallGuarded("a", "value", 10), FaultGuardTests.MappedCopies(Runtime, "a.g0.").Count), Is.EqualTo(((nint)12, 0)));
    }

    [Test]
    public void AFaultInACallFromTheHostIsAModuleFaultExceptionAndTheLibraryIsNeverUnloaded()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        nint crash = Runtime.GetProc("a", "crash");
        ulong crashCode = (ulong)Runtime.GetProcSymbol("a", "crash").Target;
        string copy = Path.GetFileName(Runtime.GetModule("a").LoadedCopyPath)!;

        var error = Assert.Throws<ModuleFaultException>(() => Runtime.CallGuarded(crash, 10))!;

        var match = new Regex(
            "^module 'a': a call from the host faulted: SIGSEGV \\(SEGV_MAPERR: address not mapped\\) at address 0x0, " +
            $"pc 0x(?<pc>[0-9a-f]+) \\({Regex.Escape(copy)}\\+0x[0-9a-f]+\\); {KeptMapped}$").Match(error.Message);
        Assert.Multiple(() =>
        {
            Assert.That(match.Success, Is.True, error.Message);
            Assert.That(copy, Does.Match(@"^a\.g0\.\d+\.so$"));
            Assert.That(error.Module, Is.EqualTo("a"));
            Assert.That((error.Fault.Function, error.Fault.Signal, error.Fault.Code, error.Fault.Address), Is.EqualTo(("a call from the host", 11, 1, 0UL)));
            Assert.That(match.Groups["pc"].Value, Is.EqualTo($"{error.Fault.Pc:x}"));
            Assert.That(error.Fault.Pc - crashCode, Is.LessThan(32UL), "the PC is in crash(), a few bytes from its start");
            Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11), "the module's other proc answers through its slot");
            Assert.That(Runtime.CallGuarded("a", "value", 10), Is.EqualTo((nint)11), "and through the guard again");
        });

        Bench.Build("a", 2, Module());
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.Multiple(() =>
        {
            Assert.That((Runtime.Generation, Bench.Call("a", "value", 10)), Is.EqualTo((1L, 12L)), "a good v2 reloads");
            Assert.That(FaultGuardTests.MappedCopies(Runtime, "a.g0."), Is.EqualTo(new[] { Path.Combine(Runtime.CopyDirectory, copy) + " (deleted)" }),
                "the faulted copy: replaced and deleted from disk, never dlclosed");
        });
    }

    [Test]
    public void ACallByNameNamesTheProcAndADivideByZeroIsSigfpe()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");

        var error = Assert.Throws<ModuleFaultException>(() => Runtime.CallGuarded("a", "divide", 1, 0))!;

        // SIGFPE names the instruction: the fault address is the PC.
        ulong pc = error.Fault.Pc;
        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Does.Match(
                $"^module 'a': a call from the host to proc 'divide' of module 'a' faulted: SIGFPE \\(FPE_INTDIV: integer divide by zero\\) " +
                $"at address 0x{pc:x}, pc 0x{pc:x} \\(a\\.g0\\.\\d+\\.so\\+0x[0-9a-f]+\\); {KeptMapped}$"));
            Assert.That((error.Module, error.Fault.Signal, error.Fault.Code, error.Fault.Address), Is.EqualTo(("a", 8, 1, pc)));
            Assert.That(pc - (ulong)Runtime.GetProcSymbol("a", "divide").Target, Is.LessThan(32UL), "the PC is in divide()");
            Assert.That(Runtime.CallGuarded("a", "divide", 84, 2), Is.EqualTo((nint)42));
        });
    }

    [Test]
    public void AFaultInALibraryAReloadReplacedButStillRetainsMarksThatLibrary()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        var holder = Runtime.RegisterOnAnotherThread("holder");
        nint oldCrash = Runtime.GetProcSymbol("a", "crash").Target;
        string oldCopy = Path.GetFileName(Runtime.GetModule("a").LoadedCopyPath)!;
        Bench.Build("a", 2, Module());
        Runtime.PerformCodeReload();
        Assert.That(Runtime.Retention.RetainedImages, Is.EqualTo(1), "the holder has not reported since the reload");

        // v1's crash() itself, not its slot (which reaches v2's now).
        var error = Assert.Throws<ModuleFaultException>(() => Runtime.CallGuarded(oldCrash, 10))!;
        holder.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That((error.Module, error.Fault.Signal, error.Fault.Address), Is.EqualTo(("a", 11, 0UL)));
            Assert.That(error.Fault.Location, Does.StartWith(oldCopy + "+0x"));
            Assert.That((Runtime.Retention.RetainedImages, Runtime.Retention.UnloadedImages), Is.EqualTo((0, 1L)), "released by retention once the holder went");
            Assert.That(FaultGuardTests.MappedCopies(Runtime, "a.g0."), Is.EqualTo(new[] { Path.Combine(Runtime.CopyDirectory, oldCopy) + " (deleted)" }),
                "but not dlclosed: its code faulted");
            Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));
        });
    }

    [Test]
    public void AJumpIntoNothingIsContainedWithNoModuleToBlame()
    {
        var error = Assert.Throws<ModuleFaultException>(() => Runtime.CallGuarded(0x10))!;

        Assert.That((error.Module, error.Message), Is.EqualTo(((string?)null,
            "a call from the host faulted: SIGSEGV (SEGV_MAPERR: address not mapped) at address 0x10, pc 0x10; " +
            "the faulting instruction is in no library of a module this runtime loaded")));
    }

    [Test]
    public void AGuardedCallOfARemovedProcIsABadCallAnsweredWithZero()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        nint crash = Runtime.GetProc("a", "crash");
        Bench.Build("a", 2, ModuleReloadTests.Module());
        Runtime.PerformCodeReload();

        Assert.That((Runtime.CallGuarded(crash, 10), Runtime.Table.BadCallCount, Runtime.Table.LastBadCall?.Name), Is.EqualTo(((nint)0, 1L, "crash")));
    }

    [Test]
    public void TheFuzzChildsCallIsGuardedAndItsFaultIsAnAnswer()
    {
        // The call the fuzz makes (load-each: start m, then value(10)), in a child as the fuzz runs it; unguarded, a
        // value() that writes through NULL ended the child as crash-outside-guard's call does (exit 139).
        string file = Bench.Build("m", 1, ModuleReloadTests.Module().Replace(
            "static int64_t value_actual(int64_t x) { return x + VERSION; }",
            "static int64_t value_actual(int64_t x) { *(volatile int64_t*)0 = x; return x + VERSION; }",
            StringComparison.Ordinal));

        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "load-each", file);

        Assert.That((child.ExitCode, child.Crashed), Is.EqualTo((0, false)), child.ToString());
        Assert.That(child.OutputLines, Has.Length.EqualTo(1).And.All.Match(
            @"^0 faulted SIGSEGV \(SEGV_MAPERR: address not mapped\) at address 0x0, pc 0x[0-9a-f]+ \(m\.g0\.\d+\.so\+0x[0-9a-f]+\)$"), child.ToString());
    }

    [Test]
    public void AManagedNullReferenceInAGuardedCallIsStillAnException()
    {
        // Not contained: the guard leaves faults in managed code to the .NET runtime, which makes this one an exception
        // (caught inside the method: one that left an UnmanagedCallersOnly method would end the process).
        Assert.That(Runtime.CallGuarded((nint)(delegate* unmanaged<nint, nint, nint>)&CatchNullReference, 5, 6), Is.EqualTo((nint)11));
    }

    [Test]
    public void ANullFunctionAnUnknownProcAndADisposedRuntimeAreRefusedBeforeAnyCall()
    {
        Bench.Build("a", 1, Module());
        Runtime.Start("a");
        nint value = Runtime.GetProc("a", "value");

        var nullFunction = Assert.Throws<ArgumentException>(() => Runtime.CallGuarded(0, 10))!;
        var unknownProc = Assert.Throws<UnknownSymbolException>(() => Runtime.CallGuarded("a", "missing", 10))!;
        var unknownModule = Assert.Throws<UnknownModuleException>(() => Runtime.CallGuarded("b", "value", 10))!;
        Assert.Multiple(() =>
        {
            Assert.That((nullFunction.ParamName, nullFunction.Message), Is.EqualTo(("function", "the function pointer is NULL (Parameter 'function')")));
            Assert.That((unknownProc.Kind, unknownProc.Module, unknownProc.Name, unknownProc.Message), Is.EqualTo((SymbolKind.Proc, "a", "missing", "module 'a' has no proc named 'missing'")));
            Assert.That(Assert.Throws<UnknownSymbolException>(() => Runtime.GetProc("a", "missing"))!.Message, Is.EqualTo(unknownProc.Message), "as GetProc");
            Assert.That(unknownModule.Message, Is.EqualTo("unknown module 'b'"));
        });

        Runtime.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Runtime.CallGuarded(value, 10));
        Assert.Throws<ObjectDisposedException>(() => Runtime.CallGuarded("a", "value", 10));
    }

    [Test]
    public void WithTheGuardOffACallIsRefusedAndNotMadeUnguarded()
    {
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { ContainFaults = false }));
        Bench.Build("a", 1, Module());
        Runtime.Start("a");

        var byPointer = Assert.Throws<InvalidOperationException>(() => Runtime.CallGuarded(Runtime.GetProc("a", "crash"), 10))!;
        var byName = Assert.Throws<InvalidOperationException>(() => Runtime.CallGuarded("a", "crash", 10))!;

        Assert.That(new[] { byPointer.Message, byName.Message }, Has.All.EqualTo(
            "CallGuarded needs the fault guard, and this runtime was created with HcrRuntimeOptions.ContainFaults = false, which installs no signal handler; " +
            "create the runtime with ContainFaults = true, or call the function directly"));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11));
    }

    /// <summary><see cref="ModuleReloadTests.Module"/> with the procs <c>crash</c> and <c>divide</c> added.</summary>
    private static string Module() =>
        Procs + ModuleReloadTests.Module(datInit: "hcrRegisterProc(M, \"crash\", (void*)crash); hcrRegisterProc(M, \"divide\", (void*)divide);");


    [UnmanagedCallersOnly]
    private static nint CatchNullReference(nint a0, nint a1)
    {
        try
        {
            return Volatile.Read(ref s_null)!.Length;
        }
        catch (NullReferenceException)
        {
            return a0 + a1;
        }
    }
}
