using HcrLab.Encoders;
using HcrLab.Runtime;

namespace HcrLab.Tests.Runtime;

/// <summary>The jump table writes its slots with the encoders' store lists: its bytes are the writer's, store for store.</summary>
[Category("Runtime")]
public sealed unsafe class JumpTableStoreTests
{
    [Test]
    public void AnIndirectSlotsRepointLeavesExactlyTheBytesTheEncodersStoresWrite([Values] SlotForm form)
    {
        using var table = new JumpTable(4, anchor: null, form);
        var slot = table.Allocate(0x1000);
        var before = Bytes(table, slot);

        // Far from any mapping (and from the table): a direct slot routes it through its tail's literal.
        const ulong target = 0x7000_1234_5670;
        table.Repoint(slot, unchecked((nint)target));

        var expected = before.ToArray();
        var encoder = table.Encoder;
        ulong start = (ulong)slot.Address - (ulong)(form == SlotForm.Direct ? 3 : 0);
        int tail = form == SlotForm.Direct ? 16 : 0;
        var literalForm = encoder.Form("rip-indirect");
        var oldTail = encoder.Plan(literalForm, start + (ulong)tail, BitConverter.ToUInt64(before, tail + 8), PatchMode.Data);
        SlotWriter.Repoint(encoder, oldTail, encoder.Plan(literalForm, start + (ulong)tail, target, PatchMode.Data)).ApplyTo(expected, start);
        if (form == SlotForm.Direct)
        {
            var rel32 = encoder.Form("rel32");
            ulong entry = (ulong)slot.Address;
            ulong entryTarget = entry + 5 + (ulong)(long)BitConverter.ToInt32(before, 4);
            SlotWriter.Repoint(encoder, encoder.Plan(rel32, entry, entryTarget, PatchMode.Code), encoder.Plan(rel32, entry, start + 16, PatchMode.Code))
                .ApplyTo(expected, start);
        }

        Assert.Multiple(() =>
        {
            Assert.That(Convert.ToHexStringLower(Bytes(table, slot)), Is.EqualTo(Convert.ToHexStringLower(expected)));
            Assert.That(table.TargetOf(slot), Is.EqualTo(unchecked((nint)target)));
        });
    }

    private static byte[] Bytes(JumpTable table, JumpSlot slot)
    {
        int entry = table.Form == SlotForm.Direct ? 3 : 0;
        return new ReadOnlySpan<byte>((byte*)(slot.Address - entry), table.Layout.Size).ToArray();
    }
}
