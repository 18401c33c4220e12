using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// The fault guard (<see cref="HcrRuntimeOptions.ContainFaults"/>): a hardware fault in a new version's init code or in
/// a handler fails the reload with a <see cref="ModuleLoadException"/> naming the module, the function, the signal,
/// the fault address and the PC, and the old version keeps running; faults the guard must not contain still reach the
/// handler installed before it (the .NET runtime's, or the default action).
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed unsafe partial class FaultGuardTests : WorkbenchFixture
{
    // Read with Volatile.Read: the JIT cannot know it is null, so the dereference is a load that faults (SIGSEGV), not a throw.
    private static string? s_null = null;
    private static int s_nullReferencesCaught;

    private HcrRuntime Runtime => Bench.Runtime;

    public enum Fault
    {
        NullWriteInInit000,
        DivideByZeroInDatInit000,
        Ud2InHcrCreateTypeInfos,
    }

    [TestCase(Fault.NullWriteInInit000, "Init000", "SIGSEGV (SEGV_MAPERR: address not mapped)", 11, 1)]
    [TestCase(Fault.DivideByZeroInDatInit000, "DatInit000", "SIGFPE (FPE_INTDIV: integer divide by zero)", 8, 1)]
    [TestCase(Fault.Ud2InHcrCreateTypeInfos, "HcrCreateTypeInfos", "SIGILL (ILL_ILLOPN: illegal operand)", 4, 2)]
    public void AFaultInANewVersionsInitIsAModuleLoadExceptionAndTheOldVersionKeepsRunning(Fault fault, string function, string signal, int number, int code)
    {
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        *(long*)Runtime.GetGlobal("a", "counter") = 4242;
        Bench.Build("a", 2, Faulty(fault));

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        // The address a SIGSEGV names is the access (NULL); SIGFPE and SIGILL name the instruction.
        ulong address = fault == Fault.NullWriteInInit000 ? 0 : error.Fault!.Pc;
        var expected = new Regex(
            $"^module 'a' \\({Regex.Escape(Bench.PathOf("a"))}\\): initialisation failed: {function} faulted: {Regex.Escape(signal)} " +
            $"at address 0x{address:x}, pc 0x(?<pc>[0-9a-f]+) \\(a\\.g1\\.\\d+\\.so\\+0x(?<offset>[0-9a-f]+)\\); " +
            "the library stays mapped and is never unloaded \\(its code stopped halfway\\)$");
        var match = expected.Match(error.Message);
        Assert.Multiple(() =>
        {
            Assert.That(match.Success, Is.True, error.Message);
            Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.Init)));
            Assert.That(error.Fault, Is.Not.Null);
            Assert.That((error.Fault!.Function, error.Fault.Signal, error.Fault.Code, error.Fault.Address), Is.EqualTo((function, number, code, address)));
            Assert.That(match.Groups["pc"].Value, Is.EqualTo($"{error.Fault.Pc:x}"));
            Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11), "v1 answers");
            Assert.That((Runtime.Generation, Runtime.GetModule("a").SignatureHash, Bench.ReadGlobal("a", "counter")), Is.EqualTo((0L, "a.v1", 4242L)));
            Assert.That(MappedCopies(Runtime, "a.g1."), Has.Count.EqualTo(1).And.All.EndsWith(" (deleted)"), "the faulted copy: deleted from disk, still mapped");
        });

        Bench.Build("a", 3, ModuleReloadTests.Module());
        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }));
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(13), "a good build after the fault reloads");
    }

    [Test]
    public void AFaultInABeforeHandlerRefusesTheReloadAndDropsTheHandler()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module()
            .Replace("void DatInit000(void) {", "static void faulty_before(void) { LOG(\"%s faulty before\", TAG); *(volatile int*)8 = 1; }\nvoid DatInit000(void) {", StringComparison.Ordinal)
            .Replace("hcrAddEventHandler(true, before);", "hcrAddEventHandler(true, faulty_before); hcrAddEventHandler(true, before);", StringComparison.Ordinal));
        Runtime.Start("a");
        Bench.Build("a", 2, ModuleReloadTests.Module());
        ModuleWorkbench.TakeLog();

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.PerformCodeReload())!;

        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Does.Match(
                $"^module 'a' \\({Regex.Escape(Bench.PathOf("a"))}\\): a before-reload handler failed: a before-reload handler faulted: " +
                "SIGSEGV \\(SEGV_MAPERR: address not mapped\\) at address 0x8, pc 0x[0-9a-f]+ \\(a\\.g0\\.\\d+\\.so\\+0x[0-9a-f]+\\); " +
                "the library stays mapped and is never unloaded \\(its code stopped halfway\\); the handler is dropped and will not run again$"));
            Assert.That((error.Stage, error.Fault!.Signal, error.Fault.Address), Is.EqualTo((ModuleLoadStage.Handler, 11, 8UL)));
            Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[] { "a.v1 faulty before", "a.v1 after changed=1" }),
                "the handler faulted before the ordinary one ran; the after handler pairs the reload that did not happen");
            Assert.That((Runtime.Generation, Bench.Call("a", "value", 10)), Is.EqualTo((0L, 11L)));
        });

        Assert.That(Runtime.PerformCodeReload().LoadedModules, Is.EqualTo(new[] { "a" }), "without the faulty handler the reload goes through");
        Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12));
    }

    [Test]
    public void AFaultInHcrGetSigHashIsAMetadataError()
    {
        Bench.Build("a", 1, ModuleReloadTests.Module().Replace("return TAG; }", "return *(const char* volatile*)16; }", StringComparison.Ordinal));

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;

        Assert.That((error.Stage, error.Fault?.Function, error.Fault?.Signal, error.Fault?.Address), Is.EqualTo((ModuleLoadStage.Metadata, "HcrGetSigHash", 11, 16UL)));
        Assert.That(error.Cause, Does.StartWith("HcrGetSigHash faulted: SIGSEGV (SEGV_MAPERR: address not mapped) at address 0x10, pc 0x"));
        Assert.That(MappedCopies(Runtime, "a.g0."), Has.Count.EqualTo(1).And.All.EndsWith(" (deleted)"), "not closed: its code faulted");
    }

    [TestCase("hcrRegisterProc((const char*)0xdead0000, \"p\", (void*)value_actual);", "a string argument points at 0xdead0000, which is not readable memory")]
    [TestCase("hcrGetProc(M, (const char*)0xdead0000);", "a string argument points at 0xdead0000, which is not readable memory")]
    [TestCase("hcrRegisterGlobal(M, \"g\", 8, NULL, (void**)0xdead0000);", "hcrRegisterGlobal: the output pointer 0xdead0000 is not writable memory")]
    public void AWildPointerPassedToTheCAbiDuringInitFailsTheLoad(string call, string cause)
    {
        Bench.Build("a", 1, ModuleReloadTests.Module(datInit: call));

        var error = Assert.Throws<ModuleLoadException>(() => Runtime.Start("a"))!;

        Assert.That((error.Stage, error.Fault), Is.EqualTo((ModuleLoadStage.Init, (ModuleFault?)null)));
        Assert.That(error.Cause, Does.StartWith($"DatInit000: {cause}"));
    }

    [Test]
    public void AManagedNullReferenceIsStillAnExceptionWithTheGuardInstalled()
    {
        Assert.That(Runtime.Options.ContainFaults, Is.True, "the workbench's runtime installed the guard");
        Assert.Throws<NullReferenceException>(() => _ = Volatile.Read(ref s_null)!.Length);
    }

    [Test]
    public void AManagedNullReferenceInAHostCallbackDuringAGuardedInitIsStillAnException()
    {
        Runtime.RegisterProc(Runtime.RootModule, "probe", (nint)(delegate* unmanaged<void>)&ProbeNullReference);
        Bench.Build("a", 1, ModuleReloadTests.Module(datInit: "((void (*)(void))hcrGetProc(\"main\", \"probe\"))();"));
        s_nullReferencesCaught = 0;

        Runtime.Start("a");

        Assert.That((s_nullReferencesCaught, Bench.Call("a", "value", 10)), Is.EqualTo((1, 11L)));
    }

    [Test]
    public void ASigsegvOutsideAGuardedCallStillEndsTheProcess()
    {
        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "crash-outside-guard");

        Assert.That((child.ExitCode, child.Crashed), Is.EqualTo((128 + 11, true)), child.ToString());
        Assert.That(child.OutputLines, Is.EqualTo(new[] { "started with the fault guard: value(10) = 11", "calling crash(), which writes through NULL" }));
    }

    [Test]
    public void WithTheGuardOffAFaultInInitEndsTheProcessAsBefore()
    {
        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "crash-at-init", "--no-guard");

        Assert.That((child.ExitCode, child.Crashed), Is.EqualTo((128 + 11, true)), child.ToString());
        Assert.That(child.OutputLines, Is.EqualTo(new[] { "v1 running: value(10) = 11", "reloading a v2, whose Init000 writes through NULL" }));
    }

    [Test]
    public void ModuleCodeCallingTheCAbiWithAMisalignedStackIsServed()
    {
        // In a child: without the realigning shims, .NET's entry stub faults on the misaligned stack and the process ends.
        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "misaligned-call");

        Assert.That((child.ExitCode, child.Crashed), Is.EqualTo((0, false)), child.ToString());
        Assert.That(child.OutputLines, Is.EqualTo(new[]
        {
            "starting a, whose DatInit000 calls the C ABI with a misaligned stack",
            "started: twice(21) = 42, value(10) = 11",
        }));
    }

    /// <summary>The source of a's v2 with the fault put in.</summary>
    private static string Faulty(Fault fault) => fault switch
    {
        Fault.NullWriteInInit000 => ModuleReloadTests.Module().Replace("void Init000(void) {", "void Init000(void) { *(volatile int*)0 = 1;", StringComparison.Ordinal),
        Fault.DivideByZeroInDatInit000 => ModuleReloadTests.Module(datInit: "{ volatile int zero = 0, one = 1; volatile int q = one / zero; (void)q; }"),
        Fault.Ud2InHcrCreateTypeInfos => ModuleReloadTests.Module() + "void HcrCreateTypeInfos(void) { __builtin_trap(); }\n",
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
    };

    /// <summary>
    /// The paths of this process's mappings of the runtime's copies whose name starts with <paramref name="prefix"/>,
    /// once each (the copies earlier tests' faulted libraries left mapped are in other directories).
    /// </summary>
    internal static List<string> MappedCopies(HcrRuntime runtime, string prefix) =>
        [.. File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 6 && fields[5].StartsWith(Path.Combine(runtime.CopyDirectory, prefix), StringComparison.Ordinal))
            .Select(fields => fields[5])
            .Distinct()];

    [UnmanagedCallersOnly]
    private static void ProbeNullReference()
    {
        try
        {
            _ = Volatile.Read(ref s_null)!.Length;
        }
        catch (NullReferenceException)
        {
            s_nullReferencesCaught++;
        }
    }
}
