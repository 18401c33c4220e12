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
    public void ASlotIsTheEncodersDataFormAndARepointChangesOnlyTheLiteral()
    {
        using var table = new JumpTable(capacity: 16);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        Assert.That(table.Layout.Size, Is.EqualTo(16));
        Assert.That((long)slot.Address % 8, Is.Zero);

        // FF 25 02000000: jmp qword [rip+2] (rip = slot+6, so the literal is at slot+8); CC CC: int3 padding.
        Assert.That(SlotHex(slot), Is.EqualTo("FF2502000000CCCC" + LittleEndianHex(NativeTargets.ReturnsOne)));
        table.Repoint(slot, NativeTargets.ReturnsTwo);
        Assert.That(SlotHex(slot), Is.EqualTo("FF2502000000CCCC" + LittleEndianHex(NativeTargets.ReturnsTwo)));
    }

    [Test]
    public void ACallDuringRepointsReachesTheOldOrTheNewTargetNeverGarbage()
    {
        using var table = new JumpTable(capacity: 16);
        var slot = table.Allocate(NativeTargets.ReturnsOne);
        using var stop = new ManualResetEventSlim();
        long ones = 0, twos = 0, others = 0;
        var caller = new Thread(() =>
        {
            var call = (delegate* unmanaged<int>)slot.Address;
            while (!stop.IsSet)
            {
                for (int i = 0; i < 1000; i++)
                {
                    switch (call())
                    {
                        case 1: ones++; break;
                        case 2: twos++; break;
                        default: others++; break;
                    }
                }
            }
        });
        caller.Start();
        for (int i = 0; i < 200_000; i++)
        {
            table.Repoint(slot, (i & 1) == 0 ? NativeTargets.ReturnsTwo : NativeTargets.ReturnsOne);
        }

        stop.Set();
        caller.Join();
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
    public void ReleasedSlotsAreReusedOldestFirst()
    {
        using var table = new JumpTable(capacity: 16);
        table.ReportBadCallsToStandardError = false;
        var a = table.Allocate(NativeTargets.ReturnsOne);
        var b = table.Allocate(NativeTargets.ReturnsOne);
        table.Release(b, "m", "b");
        table.Release(a, "m", "a");

        var first = table.Allocate(NativeTargets.ReturnsTwo);
        var second = table.Allocate(NativeTargets.Add);
        var third = table.Allocate(NativeTargets.ReturnsOne);
        Assert.That((first, second, third.Index), Is.EqualTo((b, a, 2)));
        Assert.That(((delegate* unmanaged<int>)first.Address)(), Is.EqualTo(2));
        Assert.That(((delegate* unmanaged<long, long, long>)second.Address)(2, 3), Is.EqualTo(5));
        Assert.That((table.InUse, table.FreeSlots, table.BadCallCount), Is.EqualTo((3, 0, 0L)));
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
