using HcrLab.Encoders;

namespace HcrLab.Tests.Encoders;

/// <summary>A jump table's slot holds every form of its CPU in either mode, and data-mode literals land aligned.</summary>
[Category("Encoders")]
public sealed class SlotLayoutTests
{
    private const ulong TableBase = 0x10_0000;

    private static IEnumerable<TestCaseData> EveryFormAndMode() =>
        from encoder in JumpEncoders.All
        from form in encoder.Forms
        from mode in new[] { PatchMode.Code, PatchMode.Data }
        where mode == PatchMode.Code || form.HasLiteral
        from slotIndex in new[] { 0, 1, 7 }
        select new TestCaseData(encoder.Facts.Isa, form.Name, mode, slotIndex)
            .SetName($"{encoder.Facts.Isa.ShortName()} {form.Name} {mode} slot {slotIndex}");

    [TestCaseSource(nameof(EveryFormAndMode))]
    public void EveryFormFitsATableSlot(InstructionSet isa, string formName, PatchMode mode, int slotIndex)
    {
        var encoder = JumpEncoders.For(isa);
        var layout = encoder.Facts.TableSlot;
        ulong slot = TableBase + ((ulong)slotIndex * (ulong)layout.Size);

        // A target each form reaches: near for the relative ones, in the state the form enters.
        var form = encoder.Form(formName);
        ulong target = slot + 0x40;
        if ((form.Targets & TargetStates.Thumb) != 0 && (form.Targets & TargetStates.A32) == 0)
        {
            target |= 1;
        }

        var plan = encoder.Plan(form, slot, target, mode);

        Assert.Multiple(() =>
        {
            Assert.That(slot % (ulong)layout.Alignment, Is.Zero);
            Assert.That(layout.Alignment % encoder.Facts.InstructionAlignment, Is.Zero);
            Assert.That(plan.Size, Is.LessThanOrEqualTo(layout.Size));
            if (mode == PatchMode.Data)
            {
                Assert.That(plan.LiteralAddress % (ulong)encoder.Facts.PointerSize, Is.Zero, "data-mode literal alignment");
            }
        });
    }

    [TestCase("i386", 12, 4)]
    [TestCase("amd64", 16, 8)]
    [TestCase("arm", 8, 4)]
    [TestCase("thumb", 8, 4)]
    [TestCase("arm64", 16, 8)]
    public void TableSlotIsTheSmallestThatFitsTheDataForm(string arch, int size, int alignment)
    {
        // i386: FF 25 abs32 (6) + 2 bytes padding + 4-byte literal = 12; amd64: 6 + 2 + 8 = 16;
        // A32: LDR PC (4) + literal (4) = 8; Thumb at a word-aligned slot: LDR.W PC (4) + literal (4) = 8;
        // arm64: LDR X16 (4) + BR X16 (4) + literal (8) = 16.
        var facts = JumpEncoders.For(InstructionSetNames.Parse(arch)).Facts;

        Assert.That(facts.TableSlot, Is.EqualTo(new SlotLayout(size, alignment)));
    }
}
