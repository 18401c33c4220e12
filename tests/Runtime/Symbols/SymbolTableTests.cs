using System.Runtime.InteropServices;
using System.Text;
using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>The reference's unit scenario and the symbol tables, through the C# face and the C ABI.</summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class SymbolTableTests
{
    private static readonly nint Null = 0;

    private readonly NativeStrings _names = new();
    private HcrRuntime _runtime = null!;

    [SetUp]
    public void CreateRuntime()
    {
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = 64, ReportToStandardError = false });
        _runtime.AddModule("m");
    }

    [TearDown]
    public void DisposeRuntime()
    {
        _runtime.Dispose();
        _names.Dispose();
    }

    [Test]
    public void AGlobalRegisteredTwiceIsTheSameZeroFilledBlock()
    {
        var first = _runtime.RegisterGlobal("m", "counter", 16);
        Assert.That(first.IsNew, Is.True);
        Assert.That(new ReadOnlySpan<byte>((void*)first.Address, 16).ToArray(), Is.EqualTo(new byte[16]));
        Assert.That((long)first.Address % 16, Is.Zero);
        *(long*)first.Address = 7;

        var second = _runtime.RegisterGlobal("m", "counter", 16);
        Assert.That(second, Is.EqualTo(new GlobalRegistration(first.Address, IsNew: false)));
        Assert.That(*(long*)_runtime.GetGlobal("m", "counter"), Is.EqualTo(7));
    }

    [Test]
    public void AGlobalRegisteredAgainWithAnotherSizeIsRefused()
    {
        var first = _runtime.RegisterGlobal("m", "state", 8);
        var mismatch = Assert.Throws<GlobalSizeMismatchException>(() => _runtime.RegisterGlobal("m", "state", 12))!;
        Assert.That((mismatch.Module, mismatch.Name, mismatch.RegisteredSize, mismatch.RequestedSize), Is.EqualTo(("m", "state", 8UL, 12UL)));
        Assert.That(mismatch.Message, Is.EqualTo(
            "global 'state' of module 'm' was registered with 8 bytes and is now registered with 12; a global cannot change size " +
            "across a reload (rename it, or remove it in one reload and add it back in the next)"));
        Assert.That(_runtime.GetGlobalSymbol("m", "state").Size, Is.EqualTo(8UL));
        Assert.That(_runtime.GetGlobal("m", "state"), Is.EqualTo(first.Address));
    }

    [Test]
    public void AProcRegisteredThreeTimesKeepsItsSlotAndEveryAddressReachesTheNewestTarget()
    {
        nint first = _runtime.RegisterProc("m", "p", NativeTargets.ReturnsOne);
        nint second = _runtime.RegisterProc("m", "p", NativeTargets.ReturnsTwo);
        nint third = _runtime.RegisterProc("m", "p", NativeTargets.ReturnsThree);

        Assert.That(new[] { second, third }, Is.EqualTo(new[] { first, first }));
        foreach (nint address in new[] { first, second, third })
        {
            Assert.That(((delegate* unmanaged<int>)address)(), Is.EqualTo(3));
        }

        Assert.That(_runtime.GetProc("m", "p"), Is.EqualTo(first));
        Assert.That(_runtime.GetProcSymbol("m", "p").Target, Is.EqualTo(NativeTargets.ReturnsThree));
        Assert.That(_runtime.Table.InUse, Is.EqualTo(1));
    }

    [Test]
    public void NamesAreScopedPerModule()
    {
        _runtime.AddModule("n");
        nint inM = _runtime.RegisterProc("m", "p", NativeTargets.ReturnsOne);
        nint inN = _runtime.RegisterProc("n", "p", NativeTargets.ReturnsTwo);
        Assert.That(inN, Is.Not.EqualTo(inM));
        Assert.That((((delegate* unmanaged<int>)inM)(), ((delegate* unmanaged<int>)inN)()), Is.EqualTo((1, 2)));
        Assert.That(_runtime.RegisterGlobal("m", "g", 8).Address, Is.Not.EqualTo(_runtime.RegisterGlobal("n", "g", 8).Address));
    }

    [Test]
    public void SymbolsRecordTheGeneration()
    {
        _runtime.RegisterProc("m", "p", NativeTargets.ReturnsOne);
        _runtime.RegisterGlobal("m", "g", 4);
        Assert.That(_runtime.Generation, Is.Zero);
        Assert.That(_runtime.GetProcSymbol("m", "p").ToString(), Does.EndWith("generation 0)"));
        Assert.That(_runtime.GetModule("m").Procs.Select(p => (p.Module, p.Name, p.Generation)), Is.EqualTo(new[] { ("m", "p", 0L) }));
        Assert.That(_runtime.GetModule("m").Globals.Select(g => (g.Module, g.Name, g.Size, g.Generation)), Is.EqualTo(new[] { ("m", "g", 4UL, 0L) }));
    }

    [Test]
    public void UnknownModulesAndSymbolsAreTypedErrors()
    {
        Assert.That(Assert.Throws<UnknownModuleException>(() => _runtime.GetProc("nope", "p"))!.Message, Is.EqualTo("unknown module 'nope'"));
        Assert.That(Assert.Throws<UnknownModuleException>(() => _runtime.RegisterProc("nope", "p", NativeTargets.ReturnsOne))!.Module, Is.EqualTo("nope"));
        Assert.That(Assert.Throws<UnknownModuleException>(() => _runtime.RegisterGlobal("nope", "g", 4))!.Module, Is.EqualTo("nope"));
        var proc = Assert.Throws<UnknownSymbolException>(() => _runtime.GetProc("m", "missing"))!;
        Assert.That((proc.Kind, proc.Message), Is.EqualTo((SymbolKind.Proc, "module 'm' has no proc named 'missing'")));
        var global = Assert.Throws<UnknownSymbolException>(() => _runtime.GetGlobal("m", "missing"))!;
        Assert.That((global.Kind, global.Message), Is.EqualTo((SymbolKind.Global, "module 'm' has no global named 'missing'")));
        Assert.That(_runtime.TryGetProc("m", "missing", out nint slot) || _runtime.TryGetGlobal("nope", "g", out slot), Is.False);
        Assert.That(slot, Is.EqualTo(Null));
    }

    [Test]
    public void OnlyOneRuntimeLivesAtATime()
    {
        Assert.That(HcrRuntime.Current, Is.SameAs(_runtime));
        Assert.Throws<InvalidOperationException>(() => HcrRuntime.Create());
    }

    [Test]
    public void TheCAbiIsFoundByNameThroughGetProcAddr()
    {
        var getProcAddr = (delegate* unmanaged<nint, byte*, nint>)HcrRuntime.ProcAddressGetter;
        string[] names =
        [
            "hcrRegisterProc", "hcrGetProc", "hcrRegisterGlobal", "hcrGetGlobal", "hcrAddEventHandler", "hcrAddModule",
            "hcrGeneration", "hcrHasModuleChanged", "hcrReloadNeeded", "hcrPerformCodeReload", "hcrMarkGlobals", "hcrInit",
            "hcrFailInit",
        ];
        Assert.That(HcrRuntime.EntryPointNames, Is.EquivalentTo(names));
        foreach (string name in names)
        {
            Assert.That(getProcAddr(_runtime.Handle, _names.Utf8(name)), Is.EqualTo(HcrRuntime.EntryPoint(name)).And.Not.EqualTo(Null), name);
        }

        Assert.That(getProcAddr(_runtime.Handle, _names.Utf8("hcrNoSuchThing")), Is.EqualTo(Null));
        Assert.That(_runtime.LastDiagnostic, Does.StartWith("getProcAddr: the runtime has no entry point named 'hcrNoSuchThing'"));
    }

    [Test]
    public void TheCAbiRegistersAndLooksUpLikeTheCSharpFace()
    {
        var registerProc = (delegate* unmanaged<byte*, byte*, nint, nint>)HcrRuntime.EntryPoint("hcrRegisterProc");
        var getProc = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetProc");
        var registerGlobal = (delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte>)HcrRuntime.EntryPoint("hcrRegisterGlobal");
        var getGlobal = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetGlobal");
        var generation = (delegate* unmanaged<long>)HcrRuntime.EntryPoint("hcrGeneration");

        nint slot = registerProc(_names.Utf8("m"), _names.Utf8("p"), NativeTargets.ReturnsTwo);
        Assert.That(slot, Is.EqualTo(_runtime.GetProc("m", "p")));
        Assert.That(getProc(_names.Utf8("m"), _names.Utf8("p")), Is.EqualTo(slot));
        Assert.That(((delegate* unmanaged<int>)slot)(), Is.EqualTo(2));

        nint block;
        Assert.That(registerGlobal(_names.Utf8("m"), _names.Utf8("g"), 8, 0, &block), Is.EqualTo(1));
        nint again;
        Assert.That(registerGlobal(_names.Utf8("m"), _names.Utf8("g"), 8, 0, &again), Is.EqualTo(0));
        Assert.That((again, getGlobal(_names.Utf8("m"), _names.Utf8("g"))), Is.EqualTo((block, block)));
        Assert.That(generation(), Is.Zero);
    }

    [Test]
    public void TheCAbiAnswersNullOrFalseAndReportsInsteadOfAborting()
    {
        var getProc = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetProc");
        var getGlobal = (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetGlobal");
        var registerGlobal = (delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte>)HcrRuntime.EntryPoint("hcrRegisterGlobal");
        var registerProc = (delegate* unmanaged<byte*, byte*, nint, nint>)HcrRuntime.EntryPoint("hcrRegisterProc");
        var diagnostics = new List<string>();
        _runtime.Diagnostic += (_, e) => diagnostics.Add(e.Message);

        Assert.That(getProc(_names.Utf8("nope"), _names.Utf8("p")), Is.EqualTo(Null));
        Assert.That(getProc(_names.Utf8("m"), _names.Utf8("missing")), Is.EqualTo(Null));
        Assert.That(getGlobal(_names.Utf8("m"), _names.Utf8("missing")), Is.EqualTo(Null));
        Assert.That(registerProc(_names.Utf8("nope"), _names.Utf8("p"), NativeTargets.ReturnsOne), Is.EqualTo(Null));
        Assert.That(getProc(null, _names.Utf8("p")), Is.EqualTo(Null));

        _runtime.RegisterGlobal("m", "g", 8);
        nint output = 1;
        Assert.That(registerGlobal(_names.Utf8("m"), _names.Utf8("g"), 4, 0, &output), Is.EqualTo(0));
        Assert.That(output, Is.EqualTo(Null), "a refused registration hands out no block");

        Assert.That(diagnostics, Is.EqualTo(new[]
        {
            "hcrGetProc: unknown module 'nope'",
            "hcrGetProc: module 'm' has no proc named 'missing'",
            "hcrGetGlobal: module 'm' has no global named 'missing'",
            "hcrRegisterProc: unknown module 'nope'",
            "hcrGetProc: the module or the name is NULL or empty",
            "hcrRegisterGlobal: global 'g' of module 'm' was registered with 8 bytes and is now registered with 4; a global cannot " +
            "change size across a reload (rename it, or remove it in one reload and add it back in the next)",
        }));
    }

    [Test]
    public void MarkGlobalsCallsEachMarker()
    {
        MarkerCalls = 0;
        nint marker = (nint)(delegate* unmanaged<void>)&CountMarker;
        _runtime.RegisterGlobal("m", "a", 8, marker);
        _runtime.RegisterGlobal("m", "b", 8, marker);
        _runtime.RegisterGlobal("m", "c", 8);
        ((delegate* unmanaged<void>)HcrRuntime.EntryPoint("hcrMarkGlobals"))();
        Assert.That(MarkerCalls, Is.EqualTo(2));
    }

    private static int MarkerCalls;

    [UnmanagedCallersOnly]
    private static void CountMarker() => MarkerCalls++;
}
