using System.Numerics;
using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>
/// The lab's own statement of what each form can encode, written the way the architecture manuals state it — the width
/// of the immediate field, how far it is shifted, what the PC reads as, which states the branch can enter — and
/// evaluated differently from the encoders (by solving <c>origin + imm·2^shift ≡ target (mod 2^width)</c> for an
/// immediate that fits its field). The verifier holds the encoders to this oracle; the oracle is in turn held to the
/// CPU by running every encoding in the emulator.
/// </summary>
public static class ReachOracle
{
    /// <summary>One form as the manual states it. <c>ImmediateBits</c> = 0 marks an absolute form (a literal): it reaches every address.</summary>
    private sealed record FormSpec(string Name, int Bytes, int ImmediateBits, int Shift, int PcBias, bool PageRelative, TargetStates States);

    private sealed record IsaSpec(int AddressBits, int SlotAlignment, int TargetAlignment, bool ThumbBit, FormSpec[] Forms);

    private const TargetStates Native = TargetStates.Native;

    private static readonly Dictionary<InstructionSet, IsaSpec> Specs = new()
    {
        // Intel SDM, JMP: EB cb (rel8, 2 bytes), E9 cd (rel32, 5 bytes); EIP/RIP is the next instruction. FF /4 is absolute.
        [InstructionSet.I386] = new(32, 1, 1, false,
            [new("rel8", 2, 8, 0, 2, false, Native), new("rel32", 5, 32, 0, 5, false, Native), new("abs-indirect", 6, 0, 0, 0, false, Native)]),
        [InstructionSet.Amd64] = new(64, 1, 1, false,
            [new("rel8", 2, 8, 0, 2, false, Native), new("rel32", 5, 32, 0, 5, false, Native), new("rip-indirect", 6, 0, 0, 0, false, Native)]),

        // Arm ARM, B (A1): imm24:'00', PC = instruction + 8; B cannot change state. LDR PC (literal) interworks.
        [InstructionSet.A32] = new(32, 4, 4, true,
            [new("b", 4, 24, 2, 8, false, TargetStates.A32), new("ldr-pc", 4, 0, 0, 0, false, TargetStates.Interworking)]),

        // Arm ARM, B (T2): imm11:'0'; B (T4): S:I1:I2:imm10:imm11:'0' (24 bits); PC = instruction + 4.
        [InstructionSet.Thumb] = new(32, 2, 4, true,
            [new("b.n", 2, 11, 1, 4, false, TargetStates.Thumb), new("b.w", 4, 24, 1, 4, false, TargetStates.Thumb), new("ldr.w-pc", 4, 0, 0, 0, false, TargetStates.Interworking)]),

        // Arm ARM (A64), B: imm26:'00' from the instruction; ADRP: immhi:immlo (21 bits) pages from the instruction's page.
        [InstructionSet.Arm64] = new(64, 4, 4, false,
            [new("b", 4, 26, 2, 0, false, Native), new("adrp-add-br", 12, 21, 12, 0, true, Native), new("ldr-br", 8, 0, 0, 0, false, Native)]),
    };

    /// <summary>The names of the forms of <paramref name="isa"/>, shortest first, as the oracle knows them.</summary>
    public static IReadOnlyList<string> FormNames(InstructionSet isa) => [.. Specs[isa].Forms.Select(f => f.Name)];

    /// <summary>True when the named form (alone) can branch from <paramref name="slot"/> to <paramref name="target"/>: reach and state, not alignment.</summary>
    public static bool Reaches(InstructionSet isa, string form, ulong slot, ulong target)
    {
        var spec = Specs[isa];
        var f = spec.Forms.Single(x => x.Name == form);
        var state = StateOf(spec, target);
        if ((f.States & state) == 0)
        {
            return false;
        }

        if (f.ImmediateBits == 0)
        {
            return true;
        }

        BigInteger modulus = BigInteger.One << spec.AddressBits;
        BigInteger destination = spec.ThumbBit ? target & ~1UL : target;
        BigInteger origin = slot + (BigInteger)f.PcBias;
        if (f.PageRelative)
        {
            destination >>= 12;
            destination <<= 12;
            origin >>= 12;
            origin <<= 12;
        }

        BigInteger difference = BigInteger.Remainder(BigInteger.Remainder(destination - origin, modulus) + modulus, modulus);
        BigInteger step = BigInteger.One << f.Shift;
        if (!BigInteger.Remainder(difference, step).IsZero)
        {
            return false;
        }

        // imm·step ≡ difference (mod 2^width) has the solutions k and k − 2^(width−shift) within one period.
        BigInteger k = difference / step;
        BigInteger period = modulus / step;
        BigInteger low = -(BigInteger.One << (f.ImmediateBits - 1));
        BigInteger high = (BigInteger.One << (f.ImmediateBits - 1)) - 1;
        return (k >= low && k <= high) || (k - period >= low && k - period <= high);
    }

    /// <summary>
    /// What an encoder must do with a request: the form it must choose (the forced one, or the shortest that reaches),
    /// or the reason it must refuse.
    /// </summary>
    public static (string? Form, UnencodableReason? Refusal) Expect(InstructionSet isa, string? form, PatchMode mode, ulong slot, ulong target)
    {
        var spec = Specs[isa];
        ulong top = spec.AddressBits == 64 ? ulong.MaxValue : (1UL << spec.AddressBits) - 1;
        if (slot > top || target > top)
        {
            return (null, UnencodableReason.BeyondAddressSpace);
        }

        if (slot % (ulong)spec.SlotAlignment != 0)
        {
            return (null, UnencodableReason.SlotMisaligned);
        }

        if (StateOf(spec, target) != TargetStates.Thumb && target % (ulong)spec.TargetAlignment != 0)
        {
            return (null, UnencodableReason.TargetMisaligned);
        }

        IEnumerable<FormSpec> candidates = form is null ? spec.Forms : [spec.Forms.Single(f => f.Name == form)];
        UnencodableReason? refusal = null;
        foreach (var f in candidates)
        {
            if (mode == PatchMode.Data && f.ImmediateBits != 0)
            {
                refusal ??= UnencodableReason.NotADataForm;
                continue;
            }

            if ((f.States & StateOf(spec, target)) == 0)
            {
                refusal = UnencodableReason.WrongTargetState;
                continue;
            }

            if (Reaches(isa, f.Name, slot, target))
            {
                // An encoding that would run past the top of the address space is refused as well.
                ulong size = (ulong)EncodedSize(spec, f, slot, mode);
                return slot + size - 1 > top || slot + size - 1 < slot ? (null, UnencodableReason.BeyondAddressSpace) : (f.Name, null);
            }

            refusal = UnencodableReason.OutOfReach;
        }

        return (null, refusal);
    }

    /// <summary>The size of a form's encoding at a slot: the instructions, and for a literal form the padding up to the literal's alignment plus the literal.</summary>
    private static int EncodedSize(IsaSpec spec, FormSpec f, ulong slot, PatchMode mode)
    {
        if (f.ImmediateBits != 0)
        {
            return f.Bytes;
        }

        int pointer = spec.AddressBits / 8;

        // Code-mode literals: x86 loads them unaligned; ARM's LDR PC needs a word, and arm64's literal is kept 8-aligned.
        int alignment = mode == PatchMode.Data || spec.SlotAlignment > 1 ? pointer : 1;
        ulong literal = (slot + (ulong)f.Bytes + (ulong)alignment - 1) / (ulong)alignment * (ulong)alignment;
        return (int)(literal - slot) + pointer;
    }

    private static TargetStates StateOf(IsaSpec spec, ulong target) =>
        !spec.ThumbBit ? TargetStates.Native : (target & 1) != 0 ? TargetStates.Thumb : TargetStates.A32;
}
