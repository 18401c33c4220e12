using System.Runtime.InteropServices;
using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// A start the way <c>hcrInit</c> asks for it (<see cref="HcrStartOptions"/>): a system module initialised first, the
/// host's data-init, the handle and getter modules receive, the host naming its own module, and closure handlers.
/// </summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class HostStartTests
{
    private const nint ModuleHandle = 0x5EED;

    private static readonly List<nint> HandlesSeen = [];

    [OneTimeSetUp]
    public void RequireGcc() => ModuleWorkbench.RequireGcc();

    [Test]
    public void TheSystemModuleRunsFirstAndTheHostDataInitRunsBetweenDatInitAndInit000AtStartAndReload()
    {
        using var bench = new ModuleWorkbench();
        bench.Build("a", 1, Module());
        bench.Build("sys", 1, Module());
        var start = new HcrStartOptions { SystemModule = "sys", MainDataInit = (nint)(delegate* unmanaged<void>)&HostDataInit };

        bench.Runtime.Start(start, "a", "sys");

        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            "a.v1 HcrInit000", "sys.v1 HcrInit000",
            "sys.v1 DatInit000", "sys.v1 Init000",
            "a.v1 DatInit000", "host data-init",
            "a.v1 Init000",
        }));

        bench.Build("a", 2, Module());
        bench.Runtime.PerformCodeReload();

        // sys did not change, yet its DatInit000 and Init000 run again first (Nim's order); its handlers stay single.
        Assert.That(ModuleWorkbench.TakeLog(), Is.EqualTo(new[]
        {
            "a.v1 before", "sys.v1 before",
            "a.v2 HcrInit000",
            "sys.v1 DatInit000", "sys.v1 Init000",
            "a.v2 DatInit000", "host data-init",
            "a.v2 Init000",
            "a.v2 after", "sys.v1 after",
        }));
        Assert.That(bench.Runtime.GetModule("sys").HandlerCount, Is.EqualTo((1, 1)));
    }

    [Test]
    public void ModulesReceiveTheHandleAndGetterTheHostGives()
    {
        using var bench = new ModuleWorkbench();
        bench.Build("a", 1, Module());
        HandlesSeen.Clear();
        var start = new HcrStartOptions
        {
            ModuleHandle = ModuleHandle,
            ModuleProcAddressGetter = (nint)(delegate* unmanaged<nint, byte*, nint>)&CountingGetter,
        };

        bench.Runtime.Start(start, "a");

        Assert.That(HandlesSeen, Is.Not.Empty.And.All.EqualTo(ModuleHandle));
        Assert.That(bench.Call("a", "value", 10), Is.EqualTo(11));
    }

    [Test]
    public void AClosureHandlerIsCalledWithItsEnvironment()
    {
        using var bench = new ModuleWorkbench();
        bench.Build("a", 1, Module());
        bench.Runtime.Start("a");
        bench.Runtime.AddEventHandler(isBefore: false, (nint)(delegate* unmanaged<nint, void>)&AfterWithEnvironment, environment: 42);
        bench.Runtime.AddEventHandler(isBefore: false, (nint)(delegate* unmanaged<void>)&AfterWithout);
        ModuleWorkbench.TakeLog();

        bench.Build("a", 2, Module());
        bench.Runtime.PerformCodeReload();

        Assert.That(ModuleWorkbench.TakeLog().TakeLast(2), Is.EqualTo(new[] { "host after, environment 42", "host after, no environment" }));
    }

    [Test]
    public void TheHostNamesItsOwnModuleAndKeepsWhatItRegisteredUnderIt()
    {
        using var runtime = HcrRuntime.Create(new HcrRuntimeOptions { ReportToStandardError = false });
        runtime.AddModule("host");
        nint slot = runtime.RegisterProc("host", "f", (nint)(delegate* unmanaged<long, long>)&Twice);
        var global = runtime.RegisterGlobal("host", "g", 8);

        runtime.Start(new HcrStartOptions { RootModule = "host" });

        Assert.That(runtime.RootModule, Is.EqualTo("host"));
        Assert.That(runtime.Modules.Select(m => (m.Name, m.IsRoot)), Is.EqualTo(new[] { ("host", true) }));
        Assert.That((runtime.GetProc("host", "f"), runtime.GetGlobal("host", "g")), Is.EqualTo((slot, global.Address)));
        Assert.That(((delegate* unmanaged<long, long>)slot)(21), Is.EqualTo(42));
    }

    [Test]
    public void TheHostCannotRenameARootThatAlreadyHasSymbols()
    {
        using var runtime = HcrRuntime.Create(new HcrRuntimeOptions { ReportToStandardError = false });
        runtime.RegisterProc(runtime.RootModule, "f", (nint)(delegate* unmanaged<long, long>)&Twice);

        var error = Assert.Throws<InvalidOperationException>(() => runtime.Start(new HcrStartOptions { RootModule = "host" }));

        Assert.That(error!.Message, Does.Contain("already registered under the default root 'main'"));
        Assert.That(runtime.IsStarted, Is.False);
    }

    /// <summary>A module with one proc, a before and an after handler, logging each pass.</summary>
    private static string Module() => """
        static int64_t value_actual(int64_t x) { return x + VERSION; }
        static void before(void) { LOG("%s before", TAG); }
        static void after(void) { LOG("%s after", TAG); }
        void DatInit000(void) { LOG("%s DatInit000", TAG); hcrRegisterProc(M, "value", (void*)value_actual); }
        void Init000(void) { LOG("%s Init000", TAG); hcrAddEventHandler(true, before); hcrAddEventHandler(false, after); }
        const char** HcrGetImportedModules(void) { static const char* imports[] = { "" }; return imports; }
        const char* HcrGetSigHash(void) { return TAG; }
        """;

    [UnmanagedCallersOnly]
    private static void HostDataInit() => ModuleWorkbench.LogFromHost("host data-init");

    [UnmanagedCallersOnly]
    private static nint CountingGetter(nint handle, byte* name)
    {
        HandlesSeen.Add(handle);
        return HcrRuntime.EntryPoint(Marshal.PtrToStringUTF8((nint)name)!);
    }

    [UnmanagedCallersOnly]
    private static void AfterWithEnvironment(nint environment) => ModuleWorkbench.LogFromHost($"host after, environment {environment}");

    [UnmanagedCallersOnly]
    private static void AfterWithout() => ModuleWorkbench.LogFromHost("host after, no environment");

    [UnmanagedCallersOnly]
    private static long Twice(long x) => 2 * x;
}
