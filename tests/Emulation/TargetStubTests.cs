using HcrLab.Encoders;
using HcrLab.Lab.Emulation;
using NUnit.Framework;

namespace HcrLab.Tests.Emulation;

[TestFixture]
[Category("Emulation")]
public sealed class TargetStubTests
{
    private const ulong StubAddress = 0x0040_0000;

    // Values that set every immediate field to all-zeros and all-ones, and the Thumb i bit (imm16 bit 11) in both halves.
    private static readonly uint[] Values = [0, 1, 0x1234_5678, 0xFFFF_FFFF, 0x8000_8000, 0x0800_0800, 0x7FFF_F7FF];

    private static IEnumerable<TestCaseData> StubCases() =>
        from isa in InstructionSetNames.All
        from value in Values
        select new TestCaseData(isa, value).SetName($"{{m}}({isa.ShortName()}, 0x{value:X8})");

    [TestCaseSource(nameof(StubCases))]
    public void StubReturnsItsValue(InstructionSet isa, uint value)
    {
        using var cpu = new EmulatedCpu(isa);
        ulong target = isa == InstructionSet.Thumb ? StubAddress | 1 : StubAddress;
        cpu.PlaceStub(target, value);

        var outcome = cpu.RunFrom(StubAddress);

        Assert.That(outcome.Error, Is.Null);
        Assert.That(outcome.ReachedHalt, Is.True, outcome.ToString());
        Assert.That(outcome.Result, Is.EqualTo((ulong)value));
        Assert.That(outcome.ClobberedRegisters, Is.Empty);
    }

    // Golden bytes for 0x12345678, one instruction per group, with its disassembly.
    [TestCase(InstructionSet.I386, "B878563412 C3")] // mov eax, 0x12345678; ret
    [TestCase(InstructionSet.Amd64, "B878563412 C3")] // mov eax, 0x12345678 (zero-extends into rax); ret
    [TestCase(InstructionSet.A32, "780605E3 340241E3 1EFF2FE1")] // movw r0, #0x5678 (E3050678); movt r0, #0x1234 (E3410234); bx lr (E12FFF1E)
    [TestCase(InstructionSet.Thumb, "45F27860 C1F23420 7047")] // movw r0, #0x5678 (F245 6078); movt r0, #0x1234 (F2C1 2034); bx lr (4770)
    [TestCase(InstructionSet.Arm64, "00CF8AD2 8046A2F2 C0035FD6")] // movz x0, #0x5678 (D28ACF00); movk x0, #0x1234, lsl #16 (F2A24680); ret (D65F03C0)
    public void StubBytesAreTheDerivedEncoding(InstructionSet isa, string expectedHex)
    {
        Span<byte> bytes = stackalloc byte[TargetStub.MaxSize];
        int size = TargetStub.Write(isa, 0x1234_5678, bytes);

        Assert.That(Convert.ToHexString(bytes[..size]), Is.EqualTo(expectedHex.Replace(" ", "")));
        Assert.That(size, Is.EqualTo(TargetStub.Size(isa)));
    }
}
