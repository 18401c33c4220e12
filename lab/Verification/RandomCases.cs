using CsCheck;
using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>
/// Random cases on top of the fixed matrix, from CsCheck generators: the verifier draws case k of a run from the run's
/// seed and k (<see cref="Verifier"/>), so a seed replays the run. Targets cluster where encoders break: around every
/// form's reach limits, around powers of two, and anywhere in the address space.
/// </summary>
public static class RandomCases
{
    /// <summary>Highest address used on 64-bit CPUs: amd64 faults on non-canonical addresses, and arm64 user space is 48-bit.</summary>
    private const ulong Top64 = (1UL << 47) - 1;

    public static Gen<JumpCase> For(InstructionSet isa, Func<ulong, int, bool> isReserved)
    {
        var encoder = JumpEncoders.For(isa);
        var facts = encoder.Facts;
        ulong top = facts.AddressBits == 64 ? Top64 : facts.MaxAddress;
        var relative = encoder.Forms.Where(f => f.IsRelative).ToArray();
        string?[] forms = [.. encoder.Forms.Select(f => f.Name), null, null, null];

        var slot = Gen.ULong[0, top].Select(s => s & ~(ulong)(facts.InstructionAlignment - 1));
        var offset = Gen.Frequency(
            (3, Gen.Select(Gen.Int[0, relative.Length - 1], Gen.Bool, Gen.Int[-3, 3], (f, up, steps) =>
                (up ? relative[f].MaxDisplacement : relative[f].MinDisplacement) + (long)relative[f].PcBias + (steps * relative[f].Granularity))),
            (2, Gen.Select(Gen.Int[0, facts.AddressBits - 2], Gen.Bool, Gen.Int[-64, 64], (bit, up, jitter) =>
                (up ? 1L << bit : -(1L << bit)) + jitter)),
            (1, Gen.Long));
        var state = facts.HasThumbBit ? Gen.Bool : Gen.Const(false);

        return Gen.Select(Gen.OneOf(PatchMode.Code, PatchMode.Data), Gen.Int[0, forms.Length - 1], slot, offset, state, offset, state,
                (mode, form, s, first, thumb, second, secondThumb) => new JumpCase(
                    isa, forms[form], mode, s,
                    Target(facts, s, first, thumb, top), Target(facts, s, second, secondThumb, top), "random"))
            .Where(c => c.Target != c.SecondTarget && CaseMatrix.Fits(c, isReserved));
    }

    private static ulong Target(CpuFacts facts, ulong slot, long offset, bool thumb, ulong top) =>
        CaseMatrix.WithState(facts, (slot + (ulong)offset) & top, thumb ? TargetStates.Thumb : TargetStates.A32);
}
