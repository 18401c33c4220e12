using System.Buffers.Binary;
using System.Runtime.InteropServices;
using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

[TestFixture]
[Category("Runtime")]
public sealed unsafe class JumpTableTests
{
    [Test]
    public void ASlotReachesItsTargetThenTheNewTargetAfterARepoint()
    {
        using var table = new JumpTable(capacity: 16);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        var call = (delegate* unmanaged<int>)slot.Address;
        Assert.That(call(), Is.EqualTo(1));

        table.Repoint(slot, NativeTargets.ReturnsTwo);
        Assert.That(call(), Is.EqualTo(2));
        Assert.That(table.TargetOf(slot), Is.EqualTo(NativeTargets.ReturnsTwo));
    }

    [Test]
    public void ArgumentsAndResultsPassThroughASlot()
    {
        using var table = new JumpTable(capacity: 16);
        var slot = table.Allocate(NativeTargets.Add);
        Assert.That(((delegate* unmanaged<long, long, long>)slot.Address)(40, 2), Is.EqualTo(42));
    }

    [Test]
    public void AnIndirectSlotIsTheEncodersDataFormAndARepointChangesOnlyTheLiteral()
    {
        using var table = new JumpTable(capacity: 16, form: SlotForm.Indirect);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        Assert.That(table.Layout.Size, Is.EqualTo(16));
        Assert.That((long)slot.Address % 8, Is.Zero);

        // FF 25 02000000: jmp qword [rip+2] (rip = slot+6, so the literal is at slot+8); CC CC: int3 padding.
        Assert.That(SlotHex(slot), Is.EqualTo("FF2502000000CCCC" + LittleEndianHex(NativeTargets.ReturnsOne)));
        table.Repoint(slot, NativeTargets.ReturnsTwo);
        Assert.That(SlotHex(slot), Is.EqualTo("FF2502000000CCCC" + LittleEndianHex(NativeTargets.ReturnsTwo)));
    }

    [Test]
    public void ADirectSlotJumpsStraightToANearTargetAndARepointChangesOnlyTheAlignedDisplacement()
    {
        using var table = new JumpTable(capacity: 16);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        nint start = slot.Address - 3;
        Assert.That((table.Form, table.Layout.Size, (long)start % 32, (long)(slot.Address + 1) % 4), Is.EqualTo((SlotForm.Direct, 32, 0L, 0L)));
        Assume.That(Rel32(slot.Address, NativeTargets.ReturnsOne), Is.Not.Null, "the targets are within ±2 GiB of the table");

        // CC CC CC; E9 rel32 (the entry, rel32 from entry+5); 8 × CC; the tail: FF 25 02000000 (jmp [rip+2]), CC CC, literal.
        string tail = "FF2502000000CCCC" + LittleEndianHex(NativeTargets.ReturnsOne);
        Assert.That(DirectSlotHex(slot), Is.EqualTo("CCCCCCE9" + Rel32Hex(slot, NativeTargets.ReturnsOne) + "CCCCCCCCCCCCCCCC" + tail));
        Assert.That(((delegate* unmanaged<int>)slot.Address)(), Is.EqualTo(1));

        table.Repoint(slot, NativeTargets.ReturnsTwo);
        Assert.That(DirectSlotHex(slot), Is.EqualTo("CCCCCCE9" + Rel32Hex(slot, NativeTargets.ReturnsTwo) + "CCCCCCCCCCCCCCCC" + tail));
        Assert.That((((delegate* unmanaged<int>)slot.Address)(), table.TargetOf(slot)), Is.EqualTo((2, NativeTargets.ReturnsTwo)));
    }

    [Test]
    public void ADirectSlotReachesAFarTargetThroughItsTailAndComesBackToADirectJump()
    {
        using var table = new JumpTable(capacity: 16);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        using var far = FarFunction.ReturningSeven(slot.Address);
        Assert.That(Rel32(slot.Address, far.Address), Is.Null, "the far function is out of rel32 reach");

        table.Repoint(slot, far.Address);
        // rel32 = 8: from entry+5 (start+8) to the tail at start+16, whose literal now holds the far target.
        Assert.That(DirectSlotHex(slot), Is.EqualTo("CCCCCCE908000000CCCCCCCCCCCCCCCCFF2502000000CCCC" + LittleEndianHex(far.Address)));
        Assert.That((((delegate* unmanaged<int>)slot.Address)(), table.TargetOf(slot)), Is.EqualTo((7, far.Address)));

        table.Repoint(slot, NativeTargets.ReturnsTwo);
        Assert.That(DirectSlotHex(slot)[6..16], Is.EqualTo("E9" + Rel32Hex(slot, NativeTargets.ReturnsTwo)));
        Assert.That((((delegate* unmanaged<int>)slot.Address)(), table.TargetOf(slot)), Is.EqualTo((2, NativeTargets.ReturnsTwo)));
    }

    [Test]
    public void ACallDuringRepointsBetweenANearAndAFarTargetReachesOneOfThemNeverGarbage()
    {
        using var table = new JumpTable(capacity: 16);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        using var far = FarFunction.ReturningSeven(slot.Address);
        var (near, farCalls, others) = CallWhileRepointing(table, slot, (NativeTargets.ReturnsOne, 1), (far.Address, 7));
        Assert.That(others, Is.EqualTo(0));
        Assert.That(near + farCalls, Is.GreaterThan(0));
    }

    [TestCase(SlotForm.Direct)]
    [TestCase(SlotForm.Indirect)]
    public void ACallDuringRepointsReachesTheOldOrTheNewTargetNeverGarbage(SlotForm form)
    {
        using var table = new JumpTable(capacity: 16, form: form);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        var (ones, twos, others) = CallWhileRepointing(table, slot, (NativeTargets.ReturnsOne, 1), (NativeTargets.ReturnsTwo, 2));
        Assert.That(others, Is.EqualTo(0));
        Assert.That(ones + twos, Is.GreaterThan(0));
    }

    [Test]
    public void AReleasedSlotReportsTheRemovedProcAndReturnsZero()
    {
        using var table = new JumpTable(capacity: 16);
        table.ReportBadCallsToStandardError = false;
        var kept = table.Allocate(NativeTargets.ReturnsOne);
        var removed = table.Allocate(NativeTargets.ReturnsTwo);
        var events = new List<BadCall>();
        table.BadCallOccurred += (_, e) => events.Add(e.Call);

        table.Release(removed, "physics", "integrate");
        Assert.That((table.InUse, table.FreeSlots, table.IsReleased(removed)), Is.EqualTo((1, 1, true)));
        Assert.That(table.TargetOf(removed), Is.EqualTo(table.BadCallThunkOf(removed)));

        long result = ((delegate* unmanaged<long, long, long>)removed.Address)(7, 8);
        Assert.That(result, Is.EqualTo(0));
        Assert.That(table.BadCallCount, Is.EqualTo(1));
        Assert.That(table.LastBadCall, Is.EqualTo(new BadCall("physics", "integrate", removed, 1)));
        Assert.That(events, Is.EqualTo(new[] { new BadCall("physics", "integrate", removed, 1) }));
        Assert.That(table.LastBadCall!.ToString(),
            Is.EqualTo($"hcr: bad call: proc 'integrate' of module 'physics' was removed (slot 1 at 0x{removed.Address:x}); the call returns 0"));
        Assert.That(((delegate* unmanaged<int>)kept.Address)(), Is.EqualTo(1), "other slots are untouched");
    }

    [Test]
    public void TheBadCallThunkJumpsWithTheSharedEncoder()
    {
        using var table = new JumpTable(capacity: 4);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        table.Release(slot, "m", "p");
        nint thunk = table.BadCallThunkOf(slot);
        var bytes = new ReadOnlySpan<byte>((void*)thunk, 32);

        // 48 BF imm64: mov rdi, table handle; BE 00000000: mov esi, 0 (slot index); FF 25 03000000: jmp [rip+3]
        // (rip = thunk+21, literal at thunk+24); CC CC CC: padding; then the handler's address.
        Assert.That(Convert.ToHexString(bytes[..2]) + "|" + Convert.ToHexString(bytes[10..24]), Is.EqualTo("48BF|BE00000000FF2503000000CCCCCC"));
        Assert.That((long)thunk % 16, Is.Zero);
    }

    [Test]
    public void ANewProcTakesANeverUsedSlotSoAStaleAddressStillReportsABadCall()
    {
        // Issue 11, defect 1: the released slot went to the next new proc, so a callback still holding the removed proc's
        // address ran that proc. With never-used slots left, the released slot must stay a bad-call thunk.
        using var table = new JumpTable(capacity: 16);
        table.ReportBadCallsToStandardError = false;
        var removed = table.Allocate(NativeTargets.ReturnsOne, "m", "removed");
        table.Release(removed, "m", "removed");

        var fresh = table.Allocate(NativeTargets.ReturnsTwo, "m", "fresh");

        Assert.That(fresh.Index, Is.EqualTo(1), "slot 0 was used once; slot 1 never was");
        Assert.That(((delegate* unmanaged<long>)removed.Address)(), Is.EqualTo(0), "the stale address answers 0 ...");
        Assert.That(table.LastBadCall, Is.EqualTo(new BadCall("m", "removed", removed, 1)), "... and reports the removed proc");
    }

    [Test]
    public void AProcThatComesBackUnderItsModuleAndNameGetsItsOldSlot()
    {
        using var table = new JumpTable(capacity: 16);
        var p = table.Allocate(NativeTargets.ReturnsOne, "m", "p");
        var q = table.Allocate(NativeTargets.ReturnsOne, "m", "q");
        table.Release(p, "m", "p");
        table.Release(q, "m", "q");

        var other = table.Allocate(NativeTargets.ReturnsOne, "n", "p"); // same name, other module: not p's slot
        var back = table.Allocate(NativeTargets.ReturnsTwo, "m", "p");

        Assert.That((other.Index, back), Is.EqualTo((2, p)));
        Assert.That(((delegate* unmanaged<long>)p.Address)(), Is.EqualTo(2), "the address held since p's removal reaches p again");
        Assert.That((table.InUse, table.FreeSlots, table.IsReleased(q)), Is.EqualTo((2, 1, true)));
    }

    [Test]
    public void ReleasedSlotsAreReusedOnlyWhenNothingElseIsLeftOldestFirstAndTheHostIsTold()
    {
        using var table = new JumpTable(capacity: 3);
        var reused = new List<string>();
        table.SlotReused += (_, e) => reused.Add(e.ToString());
        var a = table.Allocate(NativeTargets.ReturnsOne, "m", "a");
        var b = table.Allocate(NativeTargets.ReturnsOne, "m", "b");
        table.Release(b, "m", "b");
        table.Release(a, "m", "a");

        var first = table.Allocate(NativeTargets.ReturnsTwo, "m", "c");  // slot 2 was never used
        var second = table.Allocate(NativeTargets.Add, "m", "d");        // b was released first
        var third = table.Allocate(NativeTargets.ReturnsOne, "m", "e");  // then a
        Assert.That((first.Index, second, third), Is.EqualTo((2, b, a)));
        Assert.That(((delegate* unmanaged<long, long, long>)second.Address)(2, 3), Is.EqualTo(5));
        Assert.That(reused, Is.EqualTo(new[]
        {
            $"jump table: {b} of removed proc 'b' of module 'm' is reused for proc 'd' of module 'm' (no never-used slot was left and every registered thread had reported a quiescent state since its release); an address of the removed proc still held anywhere now calls the new proc",
            $"jump table: {a} of removed proc 'a' of module 'm' is reused for proc 'e' of module 'm' (no never-used slot was left and every registered thread had reported a quiescent state since its release); an address of the removed proc still held anywhere now calls the new proc",
        }));
        Assert.Throws<JumpTableFullException>(() => table.Allocate(NativeTargets.ReturnsOne, "m", "f"));
    }

    [Test]
    public void AReleasedSlotWaitsForEveryRegisteredThreadToReportAQuiescentStateAfterItsRelease()
    {
        var retention = new ImageRetention(8, TimeSpan.FromSeconds(1), _ => { });
        using var table = new JumpTable(capacity: 1) { Quiescence = retention };
        table.ReportBadCallsToStandardError = false;
        using var worker = OtherThreads.RegisterOnAnotherThread(() => retention.Register("worker"));
        var removed = table.Allocate(NativeTargets.ReturnsOne, "m", "removed");
        table.Release(removed, "m", "removed"); // at epoch 0, which the worker observed when it registered

        // What a reload does after its release: retire something, moving the epoch to 1 (this thread is not registered).
        retention.Retire([], [(nint)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(8, 16)]);
        var full = Assert.Throws<JumpTableFullException>(() => table.Allocate(NativeTargets.ReturnsTwo, "m", "new"))!;
        Assert.That(full.Message, Does.Match(
            @"^the jump table is full: all 1 slots are in use or released, and the 1 released slot\(s\) cannot be reused yet because thread 'worker' \(managed id \d+, epoch 0\) reported no quiescent state since the oldest was released"));
        Assert.That(((delegate* unmanaged<long>)removed.Address)(), Is.EqualTo(0), "still a bad-call thunk");

        worker.ReportQuiescentState(); // at epoch 1: after the release

        Assert.That(table.Allocate(NativeTargets.ReturnsTwo, "m", "new"), Is.EqualTo(removed));
    }

    [Test]
    public void AFullTableGivesATypedErrorAndAReleaseMakesRoom()
    {
        using var table = new JumpTable(capacity: 2);
        var a = table.Allocate(NativeTargets.ReturnsOne);
        table.Allocate(NativeTargets.ReturnsOne);

        var full = Assert.Throws<JumpTableFullException>(() => table.Allocate(NativeTargets.ReturnsTwo))!;
        Assert.That(full.Capacity, Is.EqualTo(2));
        Assert.That(full.Message, Is.EqualTo("the jump table is full: all 2 slots are in use; give HcrRuntimeOptions.JumpTableCapacity a larger value"));

        table.Release(a, "m", "a");
        Assert.That(table.Allocate(NativeTargets.ReturnsTwo), Is.EqualTo(a));
    }

    [Test]
    public void MisuseIsRefused()
    {
        using var table = new JumpTable(capacity: 2);
        using var other = new JumpTable(capacity: 2);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        table.Release(slot, "m", "p");
        Assert.Throws<InvalidOperationException>(() => table.Repoint(slot, NativeTargets.ReturnsTwo));
        Assert.Throws<InvalidOperationException>(() => table.Release(slot, "m", "p"));
        Assert.Throws<ArgumentException>(() => other.TargetOf(slot));
    }

    private static string SlotHex(JumpSlot slot) => Convert.ToHexString(new ReadOnlySpan<byte>((void*)slot.Address, 16));

    private static string DirectSlotHex(JumpSlot slot) => Convert.ToHexString(new ReadOnlySpan<byte>((void*)(slot.Address - 3), 32));

    /// <summary>The displacement of <c>jmp rel32</c> at <paramref name="entry"/> to <paramref name="target"/> (from the instruction's end), or null when out of reach.</summary>
    private static int? Rel32(nint entry, nint target)
    {
        long displacement = (long)target - ((long)entry + 5);
        return displacement is >= int.MinValue and <= int.MaxValue ? (int)displacement : null;
    }

    private static string Rel32Hex(JumpSlot slot, nint target)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, Rel32(slot.Address, target) ?? throw new AssertionException("target out of reach"));
        return Convert.ToHexString(bytes);
    }

    /// <summary>
    /// Calls the slot on another thread while this one re-points it between two targets 200,000 times; counts the calls
    /// that answered the first target's answer, the second's, and anything else.
    /// </summary>
    private static (long First, long Second, long Others) CallWhileRepointing(JumpTable table, JumpSlot slot, (nint Target, int Answer) first, (nint Target, int Answer) second)
    {
        using var stop = new ManualResetEventSlim();
        long firsts = 0, seconds = 0, others = 0;
        var caller = new Thread(() =>
        {
            var call = (delegate* unmanaged<int>)slot.Address;
            while (!stop.IsSet)
            {
                for (int i = 0; i < 1000; i++)
                {
                    int answer = call();
                    if (answer == first.Answer)
                    {
                        firsts++;
                    }
                    else if (answer == second.Answer)
                    {
                        seconds++;
                    }
                    else
                    {
                        others++;
                    }
                }
            }
        });
        caller.Start();
        for (int i = 0; i < 200_000; i++)
        {
            table.Repoint(slot, (i & 1) == 0 ? second.Target : first.Target);
        }

        stop.Set();
        caller.Join();
        return (firsts, seconds, others);
    }

    private static string LittleEndianHex(nint value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return Convert.ToHexString(bytes);
    }
}

/// <summary>Native-callable targets for slots: C# functions exported as unmanaged function pointers.</summary>
internal static unsafe class NativeTargets
{
    public static nint ReturnsOne => (nint)(delegate* unmanaged<int>)&One;

    public static nint ReturnsTwo => (nint)(delegate* unmanaged<int>)&Two;

    public static nint ReturnsThree => (nint)(delegate* unmanaged<int>)&Three;

    public static nint Add => (nint)(delegate* unmanaged<long, long, long>)&Sum;

    [UnmanagedCallersOnly]
    private static int One() => 1;

    [UnmanagedCallersOnly]
    private static int Two() => 2;

    [UnmanagedCallersOnly]
    private static int Three() => 3;

    [UnmanagedCallersOnly]
    private static long Sum(long a, long b) => a + b;
}

/// <summary>
/// <c>mov eax, 7; ret</c> in a page mapped 1 TiB or more below a given address: out of any rel32's reach from it. Written
/// while the page is writable, then made read+execute (never both).
/// </summary>
internal sealed unsafe partial class FarFunction : IDisposable
{
    private const int Page = 4096;

    private FarFunction(nint address) => Address = address;

    public nint Address { get; }

    public static FarFunction ReturningSeven(nint near)
    {
        for (long step = 1L << 40; step <= 1L << 44; step <<= 1)
        {
            nint hint = (nint)(((long)near - step) & ~(long)(Page - 1));
            nint page = Mmap(hint, Page, 3 /* PROT_READ|PROT_WRITE */, 0x22 | 0x100000 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE */, -1, 0);
            if (page == hint)
            {
                ((ReadOnlySpan<byte>)[0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3]).CopyTo(new Span<byte>((void*)page, 6));
                Assert.That(Mprotect(page, Page, 5 /* PROT_READ|PROT_EXEC */), Is.Zero);
                return new FarFunction(page);
            }

            if (page != -1)
            {
                Munmap(page, Page);
            }
        }

        Assert.Ignore("no page could be mapped 1 TiB or more below the table");
        return null!;
    }

    public void Dispose() => Munmap(Address, Page);

    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint address, nuint length, int protection);

    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);
}
