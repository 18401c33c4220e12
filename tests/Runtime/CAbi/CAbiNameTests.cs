using System.Runtime.InteropServices;
using System.Text;
using HcrLab.Runtime;
using NUnit.Framework;
using static HcrLab.Tests.Runtime.CAbiEntryPoints;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// How the C ABI finds a symbol from the bytes a module passes: names decoded into a stack buffer or, when long, into a
/// string; non-ASCII names; names that are not UTF-8 refused (never aliased); no allocation for a known name;
/// and a name registered while another thread looks it up.
/// </summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class CAbiNameTests
{
    private static readonly nint Null = 0;

    private readonly NativeStrings _names = new();
    private HcrRuntime _runtime = null!;

    [SetUp]
    public void CreateRuntime()
    {
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = 4096, ReportToStandardError = false });
        _runtime.AddModule("m");
    }

    [TearDown]
    public void DisposeRuntime()
    {
        _runtime.Dispose();
        _names.Dispose();
    }

    [TestCase("größe")]
    [TestCase("π_λ")]
    [TestCase("模块函数")]
    [TestCase("emoji_😀")]
    public void NonAsciiNamesAreTheSameSymbolThroughBothFaces(string name)
    {
        _runtime.AddModule("módulo");
        nint slot = RegisterProc(_names.Utf8("módulo"), _names.Utf8(name), NativeTargets.ReturnsTwo);
        Assert.That(slot, Is.Not.EqualTo(Null));
        Assert.That(_runtime.GetProc("módulo", name), Is.EqualTo(slot));
        Assert.That(GetProc(_names.Utf8("módulo"), _names.Utf8(name)), Is.EqualTo(slot));
        Assert.That(_runtime.GetModule("módulo").Procs.Single().Name, Is.EqualTo(name));

        nint block;
        Assert.That(RegisterGlobal(_names.Utf8("módulo"), _names.Utf8(name), 8, 0, &block), Is.EqualTo(1));
        Assert.That((GetGlobal(_names.Utf8("módulo"), _names.Utf8(name)), _runtime.GetGlobal("módulo", name)), Is.EqualTo((block, block)));
    }

    [Test]
    public void NamesThatAreNotUtf8AreRefusedAndNeverAliasOneAnother()
    {
        // Issue 11, defect 5: invalid bytes were decoded to U+FFFD, so "p\xff" and "p\xfe" were one proc, found as
        // "p\uFFFD" too, and a module "mod\xfe" received what was registered under "mod\xff". 0xFF and 0xFE never occur
        // in UTF-8, 0x80 is a lone continuation byte and 0xC0 an overlong lead byte: each name below is invalid.
        var diagnostics = new List<string>();
        _runtime.Diagnostic += (_, e) => diagnostics.Add(e.Message);

        Assert.That(RegisterProc(_names.Utf8("m"), _names.Bytes([(byte)'p', 0xFF]), NativeTargets.ReturnsOne), Is.EqualTo(Null));
        Assert.That(RegisterProc(_names.Utf8("m"), _names.Bytes([(byte)'p', 0xFE]), NativeTargets.ReturnsTwo), Is.EqualTo(Null));
        Assert.That(GetProc(_names.Utf8("m"), _names.Bytes([(byte)'p', 0xFF])), Is.EqualTo(Null));
        nint block = 1;
        Assert.That(RegisterGlobal(_names.Utf8("m"), _names.Bytes([(byte)'g', 0x80]), 8, 0, &block), Is.Zero);
        Assert.That(GetGlobal(_names.Utf8("m"), _names.Bytes([(byte)'g', 0xC0])), Is.EqualTo(Null));
        Assert.That(RegisterProc(_names.Bytes([(byte)'m', 0xFE]), _names.Utf8("p"), NativeTargets.ReturnsOne), Is.EqualTo(Null));

        Assert.That(_runtime.GetModule("m").Procs.Count + _runtime.GetModule("m").Globals.Count, Is.Zero, "nothing was registered");
        Assert.That(_runtime.TryGetProc("m", "p\uFFFD", out _), Is.False);
        Assert.That(diagnostics, Is.EqualTo(new[]
        {
            "hcrRegisterProc: the name is not valid UTF-8 (bytes 70FF); names are UTF-8 strings",
            "hcrRegisterProc: the name is not valid UTF-8 (bytes 70FE); names are UTF-8 strings",
            "hcrGetProc: the name is not valid UTF-8 (bytes 70FF); names are UTF-8 strings",
            "hcrRegisterGlobal: the name is not valid UTF-8 (bytes 6780); names are UTF-8 strings",
            "hcrGetGlobal: the name is not valid UTF-8 (bytes 67C0); names are UTF-8 strings",
            "hcrRegisterProc: the module name is not valid UTF-8 (bytes 6DFE); names are UTF-8 strings",
        }));
    }

    [TestCase(1)]
    [TestCase(255)]
    [TestCase(256)]
    [TestCase(257)]
    [TestCase(5000)]
    public void NamesDifferingOnlyInTheLastByteAreDistinct(int prefixLength)
    {
        // Around 256 bytes the decoding moves from the stack buffer to a string; both must agree with the C# face.
        string prefix = new('x', prefixLength - 1);
        var slots = new Dictionary<string, nint>();
        for (char last = 'a'; last <= 'z'; last++)
        {
            string name = prefix + last;
            slots[name] = RegisterProc(_names.Utf8("m"), _names.Utf8(name), NativeTargets.ReturnsOne);
        }

        Assert.That(slots.Values.Distinct().Count(), Is.EqualTo(26));
        foreach (var (name, slot) in slots)
        {
            Assert.That(GetProc(_names.Utf8("m"), _names.Utf8(name)), Is.EqualTo(slot), name.Length.ToString());
            Assert.That(_runtime.GetProc("m", name), Is.EqualTo(slot));
        }

        Assert.That(GetProc(_names.Utf8("m"), _names.Utf8(prefix + "{")), Is.EqualTo(Null));
        Assert.That(_runtime.GetModule("m").ProcCount, Is.EqualTo(26));
    }

    [Test]
    public void ModuleNamesLongerThanTheStackBufferAreFound()
    {
        string module = new('M', 300);
        _runtime.AddModule(module);
        nint slot = RegisterProc(_names.Utf8(module), _names.Utf8("p"), NativeTargets.ReturnsTwo);
        Assert.That((GetProc(_names.Utf8(module), _names.Utf8("p")), _runtime.GetProc(module, "p")), Is.EqualTo((slot, slot)));
        Assert.That(GetProc(_names.Utf8(module + "N"), _names.Utf8("p")), Is.EqualTo(Null));
        Assert.That(_runtime.LastDiagnostic, Is.EqualTo($"hcrGetProc: unknown module '{module}N'"));
    }

    [Test]
    public void LookingUpAndReRegisteringAKnownNameAllocatesNothing()
    {
        byte* module = _names.Utf8("m"), proc = _names.Utf8("proc_name"), global = _names.Utf8("global_name");
        nint slot = RegisterProc(module, proc, NativeTargets.ReturnsOne);
        nint block;
        RegisterGlobal(module, global, 8, 0, &block);
        for (int i = 0; i < 100; i++)
        {
            RunEveryKnownNameCall(module, proc, global, slot, block);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            RunEveryKnownNameCall(module, proc, global, slot, block);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void ANameRegisteredDuringConcurrentLookupsIsSeenWithItsOneSlot()
    {
        const int Names = 500;
        byte*[] names = new byte*[Names];
        for (int i = 0; i < Names; i++)
        {
            names[i] = _names.Utf8($"late_{i}");
        }

        byte* module = _names.Utf8("m");
        var slots = new nint[Names];
        var wrong = new List<string>();
        using var registered = new ManualResetEventSlim();
        var reader = new Thread(() =>
        {
            // Each name answers NULL until it is registered, then always the same slot.
            var seen = new nint[Names];
            while (true)
            {
                bool done = registered.IsSet;
                for (int i = 0; i < Names; i++)
                {
                    nint answer = GetProc(module, names[i]);
                    if (answer == 0 ? seen[i] != 0 : seen[i] != 0 && seen[i] != answer)
                    {
                        lock (wrong)
                        {
                            wrong.Add($"late_{i}: 0x{seen[i]:x} then 0x{answer:x}");
                        }
                    }

                    seen[i] = answer == 0 ? seen[i] : answer;
                }

                if (done)
                {
                    for (int i = 0; i < Names; i++)
                    {
                        if (seen[i] != Volatile.Read(ref slots[i]))
                        {
                            lock (wrong)
                            {
                                wrong.Add($"late_{i}: the reader ended with 0x{seen[i]:x}, registered 0x{slots[i]:x}");
                            }
                        }
                    }

                    return;
                }
            }
        });
        reader.Start();
        for (int i = 0; i < Names; i++)
        {
            Volatile.Write(ref slots[i], RegisterProc(module, names[i], NativeTargets.ReturnsOne));
        }

        registered.Set();
        Assert.That(reader.Join(TimeSpan.FromSeconds(30)), Is.True, "the reader finished");
        Assert.That(wrong, Is.Empty);
        Assert.That(slots.Distinct().Count(), Is.EqualTo(Names));
    }

    private static void RunEveryKnownNameCall(byte* module, byte* proc, byte* global, nint slot, nint block)
    {
        nint again;
        if (GetProc(module, proc) != slot || RegisterProc(module, proc, NativeTargets.ReturnsOne) != slot
            || GetGlobal(module, global) != block || RegisterGlobal(module, global, 8, 0, &again) != 0 || again != block)
        {
            throw new AssertionException("a known name answered another address");
        }
    }
}
