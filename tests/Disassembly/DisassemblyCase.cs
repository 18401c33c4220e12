using HcrLab.Encoders;

namespace HcrLab.Tests.Disassembly;

/// <summary>One encoding to cross-check: a form of an instruction set, a slot, a target and a patch mode.</summary>
public sealed record DisassemblyCase(InstructionSet Isa, string Form, ulong Slot, ulong Target, PatchMode Mode, string Why)
{
    public override string ToString() =>
        $"{Isa.ShortName()} {Form} {Mode.ToString().ToLowerInvariant()} 0x{Slot:x}->0x{Target:x} ({Why})";
}

/// <summary>
/// The cases, derived from each form's own reach so that a change of reach moves the boundaries with it: for relative
/// forms a near target and the exact minimum and maximum displacement; for literal forms the lowest and highest
/// targets of the address space, in both patch modes and at slots that do and do not need padding before the literal.
/// </summary>
public static class DisassemblyCases
{
    /// <summary>
/// Slots per instruction set: a plain one, one that is 4 (A32, arm64), 3 (i386) or 2 (Thumb) past an 8-byte boundary so
/// the literal needs padding, a far amd64 one, and an i386 one near the top where displacements wrap modulo 2^32.
/// </summary>
    private static readonly Dictionary<InstructionSet, ulong[]> Slots = new()
    {
        [InstructionSet.I386] = [0x1000_0000, 0x1000_0003, 0xFFFF_FFF0],
        [InstructionSet.Amd64] = [0x1000_0000, 0x7FFF_0000_0004],
        [InstructionSet.A32] = [0x1000_0000, 0x1000_0004],
        [InstructionSet.Thumb] = [0x1000_0000, 0x1000_0002],
        [InstructionSet.Arm64] = [0x10_0000_1000, 0x10_0000_1004],
    };

    public static IEnumerable<DisassemblyCase> All()
    {
        foreach (var encoder in JumpEncoders.All)
        {
            foreach (var form in encoder.Forms)
            {
                foreach (ulong slot in Slots[encoder.Facts.Isa])
                {
                    var cases = form.IsRelative ? RelativeCases(encoder, form, slot) : LiteralCases(encoder, form, slot);
                    foreach (var c in cases)
                    {
                        yield return c;
                    }
                }
            }
        }
    }

    private static IEnumerable<DisassemblyCase> RelativeCases(IJumpEncoder encoder, JumpForm form, ulong slot)
    {
        var facts = encoder.Facts;

        // A direct branch stays in its state: a Thumb branch needs bit 0 set, every other one a plain address.
        ulong state = facts.Isa == InstructionSet.Thumb ? 1UL : 0UL;
        ulong origin = slot + (ulong)form.PcBias;
        ulong lowBits = 0;
        if (form.Kind == JumpKind.PageRelative)
        {
            // Page-relative reach is between pages; the in-page offset is free, so use the highest aligned one.
            origin &= ~0xFFFUL;
            lowBits = 0xFFC;
        }

        ulong near = ((slot + 0x40) & facts.MaxAddress & ~(ulong)(facts.TargetAlignment - 1)) | state;
        ulong lowest = (origin + unchecked((ulong)form.MinDisplacement) + lowBits) & facts.MaxAddress;
        ulong highest = (origin + (ulong)form.MaxDisplacement + lowBits) & facts.MaxAddress;
        yield return new(facts.Isa, form.Name, slot, near, PatchMode.Code, "near");
        yield return new(facts.Isa, form.Name, slot, lowest | state, PatchMode.Code, "lowest reachable");
        yield return new(facts.Isa, form.Name, slot, highest | state, PatchMode.Code, "highest reachable");
    }

    private static IEnumerable<DisassemblyCase> LiteralCases(IJumpEncoder encoder, JumpForm form, ulong slot)
    {
        var facts = encoder.Facts;
        ulong alignedTop = facts.MaxAddress & ~(ulong)(facts.TargetAlignment - 1);
        var targets = new List<(ulong Target, string Why)> { (facts.AddressBits == 64 ? 0x7_0000_0000UL : 0xF000_0000UL, "far"), (0, "lowest address"), (alignedTop, "highest aligned address") };
        if ((form.Targets & TargetStates.Thumb) != 0)
        {
            targets.Add((0x2000_0001, "Thumb target"));
            targets.Add((facts.MaxAddress, "highest Thumb target"));
        }

        foreach (var mode in new[] { PatchMode.Code, PatchMode.Data })
        {
            foreach (var (target, why) in targets)
            {
                yield return new(facts.Isa, form.Name, slot, target, mode, why);
            }
        }
    }
}
