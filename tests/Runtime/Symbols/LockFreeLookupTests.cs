using System.Runtime.InteropServices;
using System.Text;
using HcrLab.Runtime;
using NUnit.Framework;
using static HcrLab.Tests.Runtime.CAbiEntryPoints;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// The symbol tables behind the C ABI: lookups without the lock while another thread registers, names hashed alike,
/// growth across many resizes, and .NET names no C name can spell.
/// </summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed unsafe class LockFreeLookupTests
{
    private readonly NativeStrings _names = new();
    private HcrRuntime? _runtime;

    [TearDown]
    public void DisposeRuntime()
    {
        _runtime?.Dispose();
        _runtime = null;
        SymbolKey.CollideEveryName = false;
        _names.Dispose();
    }

    [Test]
    public void LookupsWhileAnotherThreadRegistersAnswerNullOrExactlyTheirOwnSymbol([Values(false, true)] bool collide)
    {
        SymbolKey.CollideEveryName = collide;
        const int Known = 300, Late = 300;
        var runtime = Create(Known + Late + 16);
        nint moduleName = (nint)_names.Utf8("m");
        nint[] names = [.. Enumerable.Range(0, Known + Late).Select(i => (nint)_names.Utf8($"sym_{i}"))];
        nint[] globals = [.. Enumerable.Range(0, Known + Late).Select(i => (nint)_names.Utf8($"var_{i}"))];
        byte* module = (byte*)moduleName;
        var slots = new nint[Known + Late];
        var blocks = new nint[Known + Late];
        for (int i = 0; i < Known; i++)
        {
            slots[i] = RegisterProc(module, (byte*)names[i], NativeTargets.ReturnsOne);
            nint block;
            RegisterGlobal(module, (byte*)globals[i], 8, 0, &block);
            blocks[i] = block;
        }

        var wrong = new List<string>();
        int finished = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            var seen = new nint[Known + Late];
            var seenBlocks = new nint[Known + Late];
            while (true)
            {
                bool done = Volatile.Read(ref finished) != 0;
                for (int i = 0; i < Known + Late; i++)
                {
                    Check(i, GetProc((byte*)moduleName, (byte*)names[i]), seen, Volatile.Read(ref slots[i]), "proc");
                    Check(i, GetGlobal((byte*)moduleName, (byte*)globals[i]), seenBlocks, Volatile.Read(ref blocks[i]), "global");
                }

                if (done)
                {
                    return;
                }
            }
        })).ToList();

        void Check(int i, nint answer, nint[] seen, nint registered, string kind)
        {
            // A known name always answers its own address; a late one NULL until registered, then always the same one.
            bool bad = i < Known ? answer != registered : answer == 0 ? seen[i] != 0 : seen[i] != 0 && seen[i] != answer;
            bad |= answer != 0 && registered != 0 && answer != registered;
            if (bad)
            {
                lock (wrong)
                {
                    wrong.Add($"{kind} {i}: answered 0x{answer:x}, saw 0x{seen[i]:x}, registered 0x{registered:x}");
                }
            }

            seen[i] = answer == 0 ? seen[i] : answer;
        }

        readers.ForEach(t => t.Start());
        for (int round = 0; round < 3; round++)
        {
            for (int i = Known; i < Known + Late; i++)
            {
                // New names the first round, re-registrations (re-points, same slot and block) after.
                Volatile.Write(ref slots[i], RegisterProc(module, (byte*)names[i], round % 2 == 0 ? NativeTargets.ReturnsOne : NativeTargets.ReturnsTwo));
                nint block;
                RegisterGlobal(module, (byte*)globals[i], 8, 0, &block);
                Volatile.Write(ref blocks[i], block);
                RegisterProc(module, (byte*)names[i - Known], NativeTargets.ReturnsTwo);
            }
        }

        Volatile.Write(ref finished, 1);
        readers.ForEach(t => Assert.That(t.Join(TimeSpan.FromSeconds(60)), Is.True, "a reader finished"));
        Assert.That(wrong, Is.Empty);
        Assert.That(slots.Distinct().Count(), Is.EqualTo(Known + Late));
        Assert.That(runtime.GetModule("m").ProcCount, Is.EqualTo(Known + Late));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void EveryNameIsFoundAcrossManyResizes(bool collide)
    {
        SymbolKey.CollideEveryName = collide;
        int count = collide ? 2_000 : 70_000; // every name in one probe run makes each lookup linear
        var runtime = Create(count + 16);
        byte* module = _names.Utf8("m");
        nint[] names = [.. Enumerable.Range(0, count).Select(i => (nint)_names.Utf8($"n{i}"))];
        var slots = new nint[count];
        for (int i = 0; i < count; i++)
        {
            slots[i] = RegisterProc(module, (byte*)names[i], NativeTargets.ReturnsOne);
            if ((i & (i + 1)) == 0)
            {
                // At each power of two (where the table grows) every name so far is still there, and the next is not yet.
                for (int j = 0; j <= i; j++)
                {
                    Assert.That(GetProc(module, (byte*)names[j]), Is.EqualTo(slots[j]), $"n{j} after {i + 1} names");
                }

                Assert.That(i + 1 < count ? GetProc(module, (byte*)names[i + 1]) : 0, Is.EqualTo((nint)0));
            }
        }

        Assert.That(slots.Distinct().Count(), Is.EqualTo(count));
        for (int i = 0; i < count; i += 97)
        {
            Assert.That((GetProc(module, (byte*)names[i]), runtime.GetProc("m", $"n{i}")), Is.EqualTo((slots[i], slots[i])));
        }

        Assert.That(runtime.GetModule("m").ProcCount, Is.EqualTo(count));
    }

    [Test]
    public void CollidingNamesStayDistinctAndModulesToo()
    {
        SymbolKey.CollideEveryName = true;
        var runtime = Create(64);
        runtime.AddModule("n");
        nint a = RegisterProc(_names.Utf8("m"), _names.Utf8("x"), NativeTargets.ReturnsOne);
        nint b = RegisterProc(_names.Utf8("n"), _names.Utf8("x"), NativeTargets.ReturnsTwo);
        nint c = RegisterProc(_names.Utf8("m"), _names.Utf8("y"), NativeTargets.ReturnsThree);
        Assert.That(new[] { a, b, c }.Distinct().Count(), Is.EqualTo(3));
        Assert.That((GetProc(_names.Utf8("m"), _names.Utf8("x")), GetProc(_names.Utf8("n"), _names.Utf8("x")), GetProc(_names.Utf8("m"), _names.Utf8("y"))), Is.EqualTo((a, b, c)));
        Assert.That(GetProc(_names.Utf8("n"), _names.Utf8("y")), Is.EqualTo((nint)0));
        Assert.That(GetProc(_names.Utf8("o"), _names.Utf8("x")), Is.EqualTo((nint)0));
    }

    [Test]
    public void ShortNamesHeldInTheEntryMatchOnlyThemselves()
    {
        // Names of up to eight bytes are compared as one zero-padded word: every length, prefixes of each other, and
        // a .NET name with a NUL inside (never held inline), which its C prefix must not reach.
        var runtime = Create(256);
        string[] names = [.. Enumerable.Range(1, 12).Select(n => new string('q', n)), "é", "éé", "ab\0c", "ab"];
        var slots = names.ToDictionary(n => n, n => runtime.RegisterProc("m", n, NativeTargets.ReturnsOne));
        foreach (var (name, slot) in slots.Where(s => !s.Key.Contains('\0')))
        {
            Assert.That(GetProc(_names.Utf8("m"), _names.Utf8(name)), Is.EqualTo(slot), name);
        }

        Assert.That(slots.Values.Distinct().Count(), Is.EqualTo(names.Length));
        Assert.That(runtime.GetProc("m", "ab\0c"), Is.Not.EqualTo(slots["ab"]));
        Assert.That(GetProc(_names.Utf8("m"), _names.Utf8("qqqqqqqqqqqqq")), Is.EqualTo((nint)0));
    }

    [Test]
    public void ANetNameWithALoneSurrogateIsItsOwnSymbolThatNoCNameReaches()
    {
        var runtime = Create(64);
        nint lone = runtime.RegisterProc("m", "p\uD800", NativeTargets.ReturnsOne);
        nint replaced = runtime.RegisterProc("m", "p\uFFFD", NativeTargets.ReturnsTwo);
        Assert.That(lone, Is.Not.EqualTo(replaced));
        Assert.That((runtime.GetProc("m", "p\uD800"), runtime.GetProc("m", "p\uFFFD")), Is.EqualTo((lone, replaced)));
        Assert.That(runtime.GetProcSymbol("m", "p\uD800").Name, Is.EqualTo("p\uD800"));

        // The surrogate's own 3-byte form is not UTF-8: from C it decodes to U+FFFD (three times) and meets neither.
        Assert.That(GetProc(_names.Utf8("m"), _names.Bytes([(byte)'p', 0xED, 0xA0, 0x80])), Is.EqualTo((nint)0));
        Assert.That(GetProc(_names.Utf8("m"), _names.Utf8("p\uFFFD")), Is.EqualTo(replaced));
    }

    [Test]
    public void AModuleNamedWithALoneSurrogateIsReachedFromDotNetOnly()
    {
        var runtime = Create(64);
        runtime.AddModule("m\uDC00");
        nint slot = runtime.RegisterProc("m\uDC00", "p", NativeTargets.ReturnsOne);
        Assert.That(runtime.GetProc("m\uDC00", "p"), Is.EqualTo(slot));
        Assert.That(GetProc(_names.Bytes([(byte)'m', 0xED, 0xB0, 0x80]), _names.Utf8("p")), Is.EqualTo((nint)0));
    }

    private HcrRuntime Create(int capacity)
    {
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = capacity, ReportToStandardError = false });
        _runtime.AddModule("m");
        return _runtime;
    }
}
