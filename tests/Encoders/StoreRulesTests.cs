using HcrLab.Encoders;

namespace HcrLab.Tests.Encoders;

/// <summary>
/// The rules checker catches a sequence that breaks each CPU's rule, quoting the manual; the shipped writer's sequences
/// pass. Each planted sequence is derived by hand in its comment.
/// </summary>
[Category("Encoders")]
public sealed class StoreRulesTests
{
    [Test]
    public void Arm64SwappingAnLdrForABranchInPlaceBreaksTheConcurrentModificationRule()
    {
        var encoder = JumpEncoders.For(InstructionSet.Arm64);

        // ldr-br at 0x1000 (LDR x16, #8 = 0x58000050) re-pointed to 0x2000, which B reaches: the first word becomes
        // B #0x1000 = 0x14000400. One aligned word store is atomic, but LDR is not in B2.2.5's list.
        var first = encoder.Plan(encoder.Form("ldr-br"), 0x1000, 0x10_0000_0000, PatchMode.Code);
        var writes = PlantedWrites.Arm64LiteralToBranchInPlace(encoder, first, encoder.PlanRepoint(first, 0x2000));

        Assert.That(StoreRules.Check(encoder.Facts, writes), Has.Some.Contains("changes the instruction at +0 from LDR (literal) 0x58000050 to B")
            .And.Some.Contains("B2.2.5"));
    }

    [Test]
    public void Arm64BranchPatchedByteByByteIsNotAWholeInstructionSwap()
    {
        var encoder = JumpEncoders.For(InstructionSet.Arm64);

        // B at 0x1000 to 0x2000 (0x14000400) → to 0x3000 (0x14000800): only byte +1 differs (04 → 08), and a 1-byte store
        // of it is atomic, but B2.2.5 speaks of an instruction replaced by another, not of a byte of one.
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Code);
        var writes = PlantedWrites.Repoint(encoder, first, encoder.PlanRepoint(first, 0x3000), (1, 1));

        Assert.That(StoreRules.Check(encoder.Facts, writes), Has.Some.Contains("writes only part of the 32-bit instruction at +0"));
    }

    [Test]
    public void Arm64LdrBrStoredBeforeItsLiteralLeavesAStaleLiteralLive()
    {
        var encoder = JumpEncoders.For(InstructionSet.Arm64);

        // b at 0x1000 → ldr-br to 0x10_0000_0000 (beyond ADRP's ±4 GiB): instructions (+0, 8 bytes) first, then the
        // literal at +8. After the first store the new LDR is live and +8 still holds zeros (past the old 4-byte B).
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Code);
        var writes = PlantedWrites.Arm64LiteralLast(encoder, first, encoder.PlanRepoint(first, 0x10_0000_0000));

        Assert.That(StoreRules.Check(encoder.Facts, writes),
            Has.Some.Contains("after store 1 of 2").And.Some.Contains("the new ldr-br is live while its literal at +8 holds 0000000000000000"));
    }

    [Test]
    public void X86Rel32WrittenByteByByteLeavesAMixedInstruction()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // rel32 at 0x1000 to 0x1_0000_1000 is out of reach; use 0x4000_0000 (rel32 = 0x3FFF_EFFB) → 0x2000 (0xFFB):
        // byte +1 FB stays, +2 EF→0F, +3 FF→00, +4 3F→00. After store 3 (+2) the displacement is half old, half new.
        var first = encoder.Plan(encoder.Form("rel32"), 0x1000, 0x4000_0000, PatchMode.Code);
        var writes = PlantedWrites.Rel32ByteByByte(encoder, first, encoder.Plan(encoder.Form("rel32"), 0x1000, 0x2000, PatchMode.Code));

        Assert.That(StoreRules.Check(encoder.Facts, writes), Has.Some.StartWith("after store 3 of 5").And.Some.Contains("neither the old rel32, the new rel32 nor the self-loop"));
    }

    [Test]
    public void X86OpcodeRewrittenInPlaceBreaksThePractice()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // rel8 (EB 0E) → rel32 (E9 FB 0F 00 00) at 0x1000 by one atomic 4-byte store of E9 FB 0F 00 (byte +4 is 00 in
        // both, as the bytes past the old 2-byte slot read zero): the instruction is whole after it, but its opcode changed.
        var first = encoder.Plan(0x1000, 0x1010, PatchMode.Code);
        var writes = PlantedWrites.Repoint(encoder, first, encoder.PlanRepoint(first, 0x2000), (0, 4), (4, 1));

        Assert.That(StoreRules.Check(encoder.Facts, writes), Has.Some.Contains("rewrites the opcode of the live rel8 in place (eb → e9)").And.Some.Contains("9.1.3"));
    }

    [Test]
    public void X86LiteralStoreStraddlingACacheLineIsNotAtomic()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // Code-mode rip-indirect at 0x1036: FF 25 disp32 (6 bytes), literal at +6 = 0x103C (code mode aligns it to 1):
        // an 8-byte store there runs to 0x1043, across the line at 0x1040.
        var form = encoder.Form("rip-indirect");
        var first = encoder.Plan(form, 0x1036, 0x7_0000_0000, PatchMode.Code);
        var writes = PlantedWrites.Repoint(encoder, first, encoder.Plan(form, 0x1036, 0x8_1234_5678, PatchMode.Code), (6, 8));

        Assert.That(StoreRules.Check(encoder.Facts, writes), Has.Some.Contains("is not single-copy atomic (it straddles the 64-byte cache line boundary at 0x1040)")
            .And.Some.Contains("9.1.1"));
    }

    [Test]
    public void ThumbWideBranchChangedInPlaceIsNotCovered()
    {
        var encoder = JumpEncoders.For(InstructionSet.Thumb);

        // b.w at the word-aligned 0x1000 to 0x1001 + 0x10_0000 and then to 0x1001 + 0x20_0000: both out of b.n's reach,
        // so the 32-bit B.W changes, even by one atomic word store; 16-bit branches only may change while executing.
        var form = encoder.Form("b.w");
        var first = encoder.Plan(form, 0x1000, 0x10_1001, PatchMode.Code);
        var writes = PlantedWrites.Repoint(encoder, first, encoder.Plan(form, 0x1000, 0x20_1001, PatchMode.Code), (0, 4));

        Assert.That(StoreRules.Check(encoder.Facts, writes), Has.Some.Contains("changes the 32-bit Thumb instruction at +0").And.Some.Contains("A3.5.4"));
    }

    [Test]
    public void A32BranchReplacedByALiteralLoadIsNotCovered()
    {
        var encoder = JumpEncoders.For(InstructionSet.A32);

        // b at 0x1000 → ldr-pc for a Thumb target (bit 0 set; B cannot enter Thumb): the first word B → LDR PC.
        var first = encoder.Plan(0x1000, 0x2000, PatchMode.Code);
        var writes = PlantedWrites.Repoint(encoder, first, encoder.PlanRepoint(first, 0x2001), (4, 4), (0, 4));

        Assert.That(StoreRules.Check(encoder.Facts, writes), Has.Some.Contains("changes the instruction at +0 from B to 0xE51FF004").And.Some.Contains("A3.5.4"));
    }

    [Test]
    public void TheShippedWritersSequencesKeepTheRules([Values] InstructionSet isa)
    {
        var encoder = JumpEncoders.For(isa);
        ulong thumb = isa == InstructionSet.Thumb ? 1UL : 0;
        var first = encoder.Plan(0x1000, 0x2000 | thumb, PatchMode.Code);
        foreach (ulong target in new[] { 0x3000UL, 0x8000_0000UL | thumb, 0x1000_0040UL | thumb, 0x2000UL | thumb })
        {
            var writes = SlotWriter.Repoint(encoder, first, encoder.PlanRepoint(first, target));
            Assert.That(StoreRules.Check(encoder.Facts, writes with { WhileCallersRun = writes.WhileCallersRun }), Is.Empty, writes.ToString());
        }
    }
}
