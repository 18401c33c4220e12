using HcrLab.Encoders;
using HcrLab.Lab.Emulation;
using NUnit.Framework;

namespace HcrLab.Tests.Emulation;

/// <summary>
/// The emulated CPU itself, checked with jumps encoded by hand (not by the encoders under test), so that a failure here
/// points at the emulation layer.
/// </summary>
[TestFixture]
[Category("Emulation")]
public sealed class EmulatedCpuTests
{
    private const ulong Slot = 0x0040_0000;
    private const uint Value = 0x1234_5678;

    // i386 jmp rel32 (E9 cd): target = slot + 5 + rel32 -> rel32 = 0x500000 - 0x400005 = 0x000FFFFB.
    [TestCase(InstructionSet.I386, Slot, "E9FBFF0F00", 0x0050_0000UL)]

    // i386 at the top of the address space: rel32 = 0x400000 - (0xFFFFFFF8 + 5) mod 2^32 = 0x00400003.
    [TestCase(InstructionSet.I386, 0xFFFF_FFF8UL, "E903004000", 0x0040_0000UL)]

    // amd64 jmp [rip+0] (FF 25 disp32=0) reads the 8-byte literal right after the 6-byte instruction.
    [TestCase(InstructionSet.Amd64, 0x1000_0000UL, "FF2500000000 0000000007000000", 0x7_0000_0000UL)]

    // A32 b (cond AL, 1010, imm24): target = slot + 8 + imm24*4 -> imm24 = (0x410000 - 0x400008) / 4 = 0x3FFE.
    [TestCase(InstructionSet.A32, Slot, "FE3F00EA", 0x0041_0000UL)]

    // A32 at the top: PC reads 0xFFFFFFF8 + 8 = 0 (mod 2^32), so imm24 = 0x400000 / 4 = 0x100000.
    [TestCase(InstructionSet.A32, 0xFFFF_FFF8UL, "000010EA", 0x0040_0000UL)]

    // Thumb b.w (T4): displacement = 0x410000 - (0x400000 + 4) = 0xFFFC = S:I1:I2:imm10:imm11:0 with S=I1=I2=0,
    // imm10 = 0x00F, imm11 = 0x7FE; J1 = J2 = NOT(I XOR S) = 1 -> F000|imm10 = F00F, 9000|J1<<13|J2<<11|imm11 = BFFE.
    // The target keeps Thumb state, so the stub is a Thumb stub (bit 0 set).
    [TestCase(InstructionSet.Thumb, Slot, "0FF0FEBF", 0x0041_0001UL)]

    // arm64 b (000101, imm26): target = slot + imm26*4 -> imm26 = 0x10000 / 4 = 0x4000 -> 0x14004000.
    [TestCase(InstructionSet.Arm64, Slot, "00400014", 0x0041_0000UL)]
    public void HandWrittenJumpReachesTheStubAndReturns(InstructionSet isa, ulong slot, string jumpHex, ulong target)
    {
        using var cpu = new EmulatedCpu(isa);
        cpu.PlaceStub(target, Value);
        cpu.WriteFresh(slot, Hex(jumpHex));

        var outcome = cpu.RunFrom(slot);

        Assert.That(outcome.ToString(), Is.EqualTo("returned, result 0x12345678"));
        Assert.That(outcome.StoppedAt, Is.EqualTo(EmulatedCpu.HaltAddress));
        Assert.That(outcome.Returned(Value), Is.True);
    }

    [Test]
    public void WritingAPreservedRegisterIsReportedByName()
    {
        using var cpu = new EmulatedCpu(InstructionSet.Arm64);
        cpu.PlaceStub(0x0041_0000, Value);

        // movz x1, #5: D2800000 | 5 << 5 | Rd=1 = D28000A1; then b from slot+4: imm26 = (0x410000 - 0x400004) / 4 = 0x3FFF.
        cpu.WriteFresh(Slot, Hex("A10080D2 FF3F0014"));

        var outcome = cpu.RunFrom(Slot);

        Assert.That(outcome.ReachedHalt, Is.True);
        Assert.That(outcome.Result, Is.EqualTo((ulong)Value));
        Assert.That(outcome.ClobberedRegisters, Is.EqualTo(new[] { "x1" }));
        Assert.That(outcome.Returned(Value), Is.False);
    }

    [Test]
    public void AWrongStackPointerIsReported()
    {
        using var cpu = new EmulatedCpu(InstructionSet.I386);
        cpu.PlaceStub(0x0050_0000, Value);

        // push 0x0000F000 (68 id) leaves a second return address to the halt page, so the stub's ret still halts, but esp
        // ends 4 bytes low. jmp rel32 from slot+5: rel32 = 0x500000 - 0x40000A = 0x000FFFF6.
        cpu.WriteFresh(Slot, Hex("6800F00000 E9F6FF0F00"));

        var outcome = cpu.RunFrom(Slot);

        Assert.That(outcome.ReachedHalt, Is.True);
        Assert.That(outcome.ClobberedRegisters, Is.EqualTo(new[] { "esp" }));
    }

    [Test]
    public void AJumpToUnmappedMemoryIsAnErrorNotAnException()
    {
        using var cpu = new EmulatedCpu(InstructionSet.I386);
        cpu.WriteFresh(Slot, Hex("E9FBFF0F00")); // jmp 0x500000, where nothing is mapped

        var outcome = cpu.RunFrom(Slot);

        Assert.That(outcome.Error, Is.EqualTo("Invalid memory fetch (UC_ERR_FETCH_UNMAPPED)"));
        Assert.That(outcome.ReachedHalt, Is.False);
        Assert.That(outcome.StoppedAt, Is.EqualTo(0x0050_0000UL));
    }

    [Test]
    public void ALoopStopsAtTheInstructionLimit()
    {
        using var cpu = new EmulatedCpu(InstructionSet.Arm64);
        cpu.WriteFresh(Slot, Hex("00000014")); // b . (imm26 = 0)

        var outcome = cpu.RunFrom(Slot);

        Assert.That(outcome.Error, Is.Null);
        Assert.That(outcome.ReachedHalt, Is.False);
        Assert.That(outcome.StoppedAt, Is.EqualTo(Slot));
    }

    /// <summary>
    /// The Unicorn quirk the lab depends on: a translated block stays cached after its bytes are rewritten, so re-pointed
    /// code runs stale until exactly its range is dropped. This is how the lab proves that an encoder's reported changed
    /// range covers every instruction byte it changed.
    /// </summary>
    // i386: jmp 0x500000 (rel32 0x000FFFFB) re-pointed to jmp 0x600000 (rel32 = 0x600000 - 0x400005 = 0x001FFFFB):
    // only byte +3 changes.
    [TestCase(InstructionSet.I386, "E9FBFF0F00", 0x0050_0000UL, "E9FBFF1F00", 0x0060_0000UL, 3, 1)]

    // arm64: b 0x410000 (imm26 0x4000) re-pointed to b 0x420000 (imm26 0x8000): only byte +1 changes.
    [TestCase(InstructionSet.Arm64, "00400014", 0x0041_0000UL, "00800014", 0x0042_0000UL, 1, 1)]
    public void RewrittenCodeRunsStaleUntilItsTranslationIsRemoved(
        InstructionSet isa, string firstHex, ulong firstTarget, string secondHex, ulong secondTarget, int changedOffset, int changedLength)
    {
        using var cpu = new EmulatedCpu(isa);
        cpu.PlaceStub(firstTarget, 0xAAAA);
        cpu.PlaceStub(secondTarget, 0xBBBB);
        cpu.WriteFresh(Slot, Hex(firstHex));
        Assert.That(cpu.RunFrom(Slot).Result, Is.EqualTo(0xAAAAUL));

        cpu.Write(Slot, Hex(secondHex));
        Assert.That(cpu.RunFrom(Slot).Result, Is.EqualTo(0xAAAAUL), "Write alone keeps the old translation");

        cpu.RemoveTranslations(Slot + (ulong)changedOffset, changedLength);
        Assert.That(cpu.RunFrom(Slot).Result, Is.EqualTo(0xBBBBUL), "removing the changed bytes' translations runs the new code");
    }

    [Test]
    public void ThumbAndA32ShareOneEngine()
    {
        // A Thumb CPU placing an A32 stub (even target) and running it through a Thumb slot: ldr.w pc, [pc, #0] loads a
        // word-aligned literal at slot + 4 and interworks on its bit 0. LDR.W (T2): F8DF | F000 + imm12 = 0.
        using var cpu = new EmulatedCpu(InstructionSet.Thumb);
        cpu.PlaceStub(0x0041_0000, Value);
        cpu.WriteFresh(Slot, Hex("DFF800F0 00004100"));

        Assert.That(cpu.RunFrom(Slot).Returned(Value), Is.True);
    }

    [Test]
    public void ReservedAreasAreReportedAndRefused()
    {
        Assert.That(EmulatedCpu.IsReserved(EmulatedCpu.HaltAddress, 1), Is.True);
        Assert.That(EmulatedCpu.IsReserved(0xEFFF, 1), Is.False);
        Assert.That(EmulatedCpu.IsReserved(0xEFFF, 2), Is.True);
        Assert.That(EmulatedCpu.IsReserved(0x1_0000, 16), Is.False);
        Assert.That(EmulatedCpu.IsReserved(0x0007_EFF8, 8), Is.False);
        Assert.That(EmulatedCpu.IsReserved(0x0007_EFF8, 9), Is.True);
        Assert.That(EmulatedCpu.IsReserved(0x0008_0FFF, 1), Is.True);
        Assert.That(EmulatedCpu.IsReserved(0x0008_1000, 1), Is.False);

        using var cpu = new EmulatedCpu(InstructionSet.I386);
        Assert.That(() => cpu.Write(EmulatedCpu.StackTop - 4, new byte[4]), Throws.ArgumentException);
        Assert.That(() => cpu.Write(0xFFFF_FFFF, new byte[2]), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void PagesAreMappedOnDemandAndResetDropsThem()
    {
        using var cpu = new EmulatedCpu(InstructionSet.Amd64);
        long own = cpu.MappedPages; // the halt page and two stack pages
        Assert.That(own, Is.EqualTo(3));

        cpu.Write(0x0040_0FFC, new byte[8]); // straddles two pages
        cpu.Write(0x0040_1000, new byte[8]); // already mapped
        Assert.That(cpu.MappedPages, Is.EqualTo(own + 2));
        Assert.That(cpu.ResetIfOverBudget(), Is.False);

        cpu.Reset();
        Assert.That(cpu.MappedPages, Is.EqualTo(own));
        Assert.That(() => cpu.Read(0x0040_1000, new byte[1]), Throws.InstanceOf<UnicornException>()
            .With.Property(nameof(UnicornException.Error)).EqualTo(UnicornError.ReadUnmapped));
    }

    private static byte[] Hex(string text) => Convert.FromHexString(text.Replace(" ", ""));
}
