using HcrLab.Encoders;

namespace HcrLab.Tests.Encoders;

/// <summary>
/// The stores a slot write performs, as data. Expected stores are derived by hand in the comments (addresses from the
/// layout, bytes from the manuals' encodings), never read back from the writer.
/// </summary>
[Category("Encoders")]
public sealed class SlotWriterTests
{
    [Test]
    public void Amd64DataModeRepointIsOneAtomicStoreOfTheLiteral()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // Data mode at 0x1000: FF 25 disp32 (6 bytes), int3 padding, the literal 8-aligned at +8 = 0x1008. Re-pointing
        // 0x7_0000_0000 → 0x8_0000_0000 changes literal byte 4 only (07 → 08 at 0x100C): the narrowest aligned store that
        // covers the change is that one byte, atomic like every naturally aligned store.
        var first = encoder.Plan(0x1000, 0x7_0000_0000, PatchMode.Data);
        var writes = SlotWriter.Repoint(encoder, first, encoder.PlanRepoint(first, 0x8_0000_0000));

        Assert.Multiple(() =>
        {
            Assert.That(writes.WhileCallersRun, Is.True, writes.Protocol);
            Assert.That(writes.Stores.Select(s => s.ToString()), Is.EqualTo(new[] { "atomic 1-byte store of 08 at 0x100C" }));
            Assert.That(StoreRules.Check(encoder.Facts, writes), Is.Empty);
        });
    }

    [Test]
    public void Arm64BranchToBranchIsOneAtomicWordAndBranchToLiteralNeedsQuiescence()
    {
        var encoder = JumpEncoders.For(InstructionSet.Arm64);

        // B at 0x1000 to 0x2000: imm26 = 0x1000 / 4 = 0x400 → 0x14000400; to 0x3000: 0x800 → 0x14000800 (bytes 00 08 00 14).
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Code);
        var near = SlotWriter.Repoint(encoder, first, encoder.PlanRepoint(first, 0x3000));

        // 0x10_0000_0000 is beyond B (±128 MiB) and ADRP (±4 GiB): ldr-br, whose first word is an LDR replacing the B.
        var far = SlotWriter.Repoint(encoder, first, encoder.PlanRepoint(first, 0x10_0000_0000));

        Assert.Multiple(() =>
        {
            Assert.That(near.WhileCallersRun, Is.True, near.Protocol);
            Assert.That(near.Stores.Select(s => s.ToString()), Is.EqualTo(new[] { "atomic 4-byte store of 00080014 at 0x1000" }), "the whole B, though one byte differs");
            Assert.That(far.Kind, Is.EqualTo(SlotWriteKind.FormChange));
            Assert.That(far.WhileCallersRun, Is.False);
            Assert.That(far.Protocol, Does.StartWith("needs quiescence").And.Contain("B2.2.5"));
        });
    }

    [Test]
    public void Amd64ChangeOfFormParksTheEntryInASelfLoopAndWritesItLast()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // rel8 at 0x1000 (EB 0E to 0x1010) → rel32 to 0x2000 (E9 FB 0F 00 00): the opcode changes, so no single store may
        // do it. Park: EB FE (jmp $) over the first two bytes with one aligned 2-byte store; then bytes +2..+4 (FB→0F, 00,
        // 00) as an aligned 2-byte store at 0x1002 and a byte at 0x1004; last the entry's two bytes E9 FB.
        var first = encoder.Plan(0x1000, 0x1010, PatchMode.Code);
        var writes = SlotWriter.Repoint(encoder, first, encoder.PlanRepoint(first, 0x2000));

        Assert.Multiple(() =>
        {
            Assert.That(writes.WhileCallersRun, Is.True, writes.Protocol);
            Assert.That(writes.Stores.Select(s => s.ToString()), Is.EqualTo(new[]
            {
                "atomic 2-byte store of ebfe at 0x1000",
                "atomic 2-byte store of 0f00 at 0x1002",
                "atomic 1-byte store of 00 at 0x1004",
                "atomic 2-byte store of e9fb at 0x1000",
            }));
            Assert.That(StoreRules.Check(encoder.Facts, writes), Is.Empty);
        });
    }

    [Test]
    public void FirstWriteIsNaturallyAlignedPiecesOfTheWholeEncoding()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // rel32 at 0x1003: E9 then rel32 = 0x2000 - 0x1008 = 0xFF8: a byte at 0x1003, then an aligned dword at 0x1004.
        var writes = SlotWriter.FirstWrite(encoder, encoder.Plan(0x1003, 0x2000, PatchMode.Code));

        Assert.That(writes.Stores.Select(s => s.ToString()), Is.EqualTo(new[] { "atomic 1-byte store of e9 at 0x1003", "atomic 4-byte store of f80f0000 at 0x1004" }));
    }
}
