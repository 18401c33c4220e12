using HcrLab.Encoders;

namespace HcrLab.Tests.Encoders;

/// <summary>
/// Issue 11, defect 7: a plan's changed range never wraps. A slot whose encoding ends on the last byte of the address
/// space had its range to flush written [0xfffffffffffffffc, 0x0), which a loop over it flushes nothing of.
/// </summary>
[Category("Encoders")]
public sealed class AddressSpaceEndTests
{
    private static IEnumerable<TestCaseData> EveryForm() =>
        from encoder in JumpEncoders.All
        from form in encoder.Forms
        select new TestCaseData(encoder.Facts.Isa, form.Name).SetName($"{encoder.Facts.Isa.ShortName()} {form.Name}");

    [TestCaseSource(nameof(EveryForm))]
    public void TheLastSlotOfTheAddressSpaceHasAChangedRangeThatEndsOnItsLastByte(InstructionSet isa, string formName)
    {
        var encoder = JumpEncoders.For(isa);
        var form = encoder.Form(formName);
        ulong max = encoder.Facts.MaxAddress;

        // The highest slot this form plans at, to a target it reaches just below (in the state the form enters): any
        // slot above it would run past the end of the address space, which the planner refuses.
        JumpPlan? last = null;
        for (ulong back = 1; back <= 64 && last is null; back++)
        {
            ulong slot = max - back + 1;
            ulong target = (slot - 0x40) & ~3UL;
            if ((form.Targets & TargetStates.Thumb) != 0 && (form.Targets & TargetStates.A32) == 0)
            {
                target |= 1;
            }

            if (encoder.TryPlan(form, slot, target, PatchMode.Code, out var plan, out _))
            {
                last = plan;
            }
        }

        Assert.That(last, Is.Not.Null, $"{formName} plans somewhere in the last 64 bytes");
        var range = last!.Value.ChangedAddresses!.Value;

        // A first write changes every byte of the encoding: from the slot to slot + size - 1, which is at most max.
        Assert.That((range.First, range.Last), Is.EqualTo((last.Value.Slot, last.Value.Slot + (ulong)last.Value.Size - 1)));
        Assert.That(range.First, Is.LessThanOrEqualTo(range.Last), "no wrap");
        Assert.That(range.Last, Is.LessThanOrEqualTo(max));
        Assert.That(range.Length, Is.EqualTo((ulong)last.Value.Size));
        Assert.That(max - range.Last, Is.LessThan(8UL), "the last slot ends within its alignment of the top");
    }

    [Test]
    public void TheEncodeCommandNamesTheLastSlotsRangeInclusively()
    {
        // arm64 B at the last 4-byte slot, 0xfffffffffffffffc: its 4 bytes end on 0xffffffffffffffff. Half-open, the
        // range would end at 0x0.
        var run = HcrLab.Tests.Cli.CliRun.Of("encode", "--arch", "arm64", "--at", "0xfffffffffffffffc", "--target", "0xfffffffffffff000");
        Assert.That(run.OutputLines, Has.Some.EqualTo(
            "cache:   clean and invalidate the instruction cache over [0xfffffffffffffffc, 0xffffffffffffffff] (inclusive) after writing"));
    }
}
