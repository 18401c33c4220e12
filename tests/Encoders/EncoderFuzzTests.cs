using CsCheck;
using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;

namespace HcrLab.Tests.Encoders;

/// <summary>
/// Random 64-bit (slot, target) pairs, modes and forms for every encoder: each ends in a typed refusal or in bytes that
/// the disassemblers decode to the target, written within the planned size and nowhere else.
/// </summary>
[Category("Encoders")]
public sealed class EncoderFuzzTests
{
    private const byte Guard = 0xA5;

    [TestCase("i386")]
    [TestCase("amd64")]
    [TestCase("arm")]
    [TestCase("thumb")]
    [TestCase("arm64")]
    public void RandomPairsEndInARefusalOrInBytesThatDecodeToTheTarget(string arch)
    {
        var encoder = JumpEncoders.For(InstructionSetNames.Parse(arch));
        using var disassembler = new JumpDisassembler();
        var address = Gen.Frequency((1, Gen.ULong), (2, Gen.UInt.Select(u => (ulong)u)), (1, Gen.Int[-4096, 4096].Select(i => (ulong)(long)i)));
        var form = Gen.Int[-1, encoder.Forms.Count - 1];
        var mode = Gen.OneOf(PatchMode.Code, PatchMode.Data);

        Gen.Select(address, address, form, mode).Sample(
            (slot, target, formIndex, patchMode) =>
            {
                JumpPlan plan;
                try
                {
                    plan = formIndex < 0 ? encoder.Plan(slot, target, patchMode) : encoder.Plan(encoder.Forms[formIndex], slot, target, patchMode);
                }
                catch (UnencodableJumpException)
                {
                    return true;
                }

                Span<byte> buffer = stackalloc byte[64];
                buffer.Fill(Guard);
                encoder.Encode(plan, buffer);
                bool untouchedPastSize = buffer[plan.Size..].IndexOfAnyExcept(Guard) < 0;
                return untouchedPastSize && disassembler.Check(plan, buffer[..plan.Size]).Agrees;
            },
            iter: 20_000,
            threads: 1,
            print: t => $"slot=0x{t.Item1:X} target=0x{t.Item2:X} form={t.Item3} mode={t.Item4}");
    }
}
