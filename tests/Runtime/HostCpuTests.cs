using System.Buffers.Binary;
using HcrLab.Runtime;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// The per-CPU facts the jump table reads (<see cref="HostCpu"/>), checked against the CPUs' manuals rather than the code
/// that uses them: the bad-call thunks load their two C arguments from where the table writes them, and the slot
/// geometry keeps a direct slot's entry and its tail's literal where the CPU can store them atomically.
/// </summary>
[TestFixture]
public sealed class HostCpuTests
{
    [Test]
    public void TheX64BadCallThunkMovesTheHandleToRdiAndTheIndexToEsi()
    {
        var thunk = HostCpu.X64.BadCallThunk;

        // Intel SDM, MOV: REX.W + B8+rd io is "mov r64, imm64" (rdi is register 7: BF), B8+rd id "mov r32, imm32"
        // (esi is 6: BE), each immediate right after the opcode. System V AMD64: the first two arguments are rdi, rsi.
        Assert.That(thunk.Code[..2], Is.EqualTo(new byte[] { 0x48, 0xBF }));
        Assert.That(thunk.HandleOffset, Is.EqualTo(2));
        Assert.That(thunk.Code[10], Is.EqualTo(0xBE));
        Assert.That(thunk.IndexOffset, Is.EqualTo(11));
        Assert.That(thunk.JumpOffset, Is.EqualTo(thunk.Code.Length), "the jump follows the two moves");
    }

    [Test]
    public void TheArm64BadCallThunkLoadsTheHandleIntoX0AndTheIndexIntoW1()
    {
        var thunk = HostCpu.Arm64.BadCallThunk;
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(thunk.Code);
        uint second = BinaryPrimitives.ReadUInt32LittleEndian(thunk.Code.AsSpan(4));

        // Arm ARM C6.2 "LDR (literal)": opc(2) 011 0 00 imm19 Rt, opc 01 a 64-bit load, 00 a 32-bit one, from the
        // instruction's own address + imm19 * 4. AAPCS64: the first two arguments are x0 and w1.
        Assert.That((first >> 24, first & 0x1F), Is.EqualTo((0x58u, 0u)), "ldr x0, literal");
        Assert.That(0 + ((first >> 5) & 0x7FFFF) * 4, Is.EqualTo((uint)thunk.HandleOffset));
        Assert.That((second >> 24, second & 0x1F), Is.EqualTo((0x18u, 1u)), "ldr w1, literal");
        Assert.That(4 + ((second >> 5) & 0x7FFFF) * 4, Is.EqualTo((uint)thunk.IndexOffset));
        Assert.That(thunk.HandleOffset % 8, Is.Zero, "the 8-byte literal is aligned (the thunk is 16-aligned)");
    }

    [TestCase("x86-64")]
    [TestCase("AArch64")]
    public void ADirectSlotsEntryAndTailFitTheSlotAndTheEntryIsStoredWhole(string name)
    {
        var cpu = new[] { HostCpu.X64, HostCpu.Arm64 }.Single(c => c.Name == name);
        var slots = cpu.Slots;
        var direct = cpu.Encoder.Form(slots.DirectForm);

        // The entry ends before the tail, and the tail (instructions, then an 8-aligned literal) ends inside the slot.
        Assert.That(slots.EntryOffset + direct.InstructionBytes, Is.LessThanOrEqualTo(slots.TailOffset));
        var tail = cpu.Encoder.Plan(cpu.Encoder.Form(slots.IndirectForm), (ulong)(0x10000 + slots.TailOffset), 0x7000_0000_0000, HcrLab.Encoders.PatchMode.Data);
        Assert.That(slots.TailOffset + tail.Size, Is.LessThanOrEqualTo(slots.DirectSize));
        Assert.That((0x10000 + slots.TailOffset + tail.LiteralOffset) % 8, Is.Zero);
    }
}
