using HcrLab.Encoders;
using HcrLab.Lab.Verification;
using HcrLab.Tests.Encoders;

namespace HcrLab.Tests.Lab;

/// <summary>
/// The lab runs every state a caller can see while a re-point's stores land, and checks the stores against the CPU's
/// rules: the shipped writer passes, and the four unsafe writers of issue 17 are caught, each with its sentence. Every
/// case's bytes are derived in its comment.
/// </summary>
[Category("Emulation")]
public sealed class IntermediateStateTests
{
    [Test]
    public void TheShippedWriterParksAnX86ChangeOfFormAndEveryStateReachesATargetOrWaits()
    {
        // rel8 at 0x2_0000_0000 to +0x40 → rip-indirect to 0x7_0000_0000 (beyond rel32) and back: the opcode changes, so
        // the writer parks the entry (EB FE), writes the rest and the entry last; the states between run and either
        // return through a stub or spin in the self-loop.
        using var runner = new CaseRunner(InstructionSet.Amd64);
        var result = runner.Run(new JumpCase(InstructionSet.Amd64, null, PatchMode.Code, 0x2_0000_0000, 0x2_0000_0040, 0x7_0000_0000, "near+"));

        Assert.Multiple(() =>
        {
            Assert.That(result.Failure, Is.Null);
            Assert.That(result.States.Repoints, Is.EqualTo(2));
            Assert.That(result.States.Quiesced, Is.Zero);

            // Park, at least one piece of the rest, the entry: four or more stores, so five or more prefixes per re-point.
            Assert.That(result.States.States, Is.GreaterThanOrEqualTo(10));
            Assert.That(result.States.Failed, Is.Zero);
        });
    }

    [Test]
    public void AnArm64ChangeOfFormIsCountedAsNeedingQuiescence()
    {
        // b → ldr-br replaces a B by an LDR: B2.2.5 does not cover it, so the writer asks for quiescence and no state runs.
        using var runner = new CaseRunner(InstructionSet.Arm64);
        var result = runner.Run(new JumpCase(InstructionSet.Arm64, null, PatchMode.Code, 0x2_0000_0000, 0x2_0000_0040, 0x70_0000_0000, "near+"));

        Assert.Multiple(() =>
        {
            Assert.That(result.Failure, Is.Null);
            Assert.That(result.States, Is.EqualTo(new StateCounts(0, 2, 0, 0)));
        });
    }

    [Test]
    public void AJmpRel32WrittenAsFiveSingleByteStoresIsCaught()
    {
        // (a) rel32 at 0x1000: to 0x4000_0000, rel32 = 0x4000_0000 - 0x1005 = 0x3FFF_EFFB (e9 fb ef ff 3f); to 0x2000,
        // 0xFFB (e9 fb 0f 00 00). Stores 1 and 2 write unchanged bytes; after store 3 (0f at +2) the displacement is
        // 0x3FFF_0FFB, so the caller jumps to 0x1005 + 0x3FFF_0FFB = 0x3FFF_2000, where nothing is mapped.
        using var runner = new CaseRunner(InstructionSet.Amd64, writer: PlantedWrites.Rel32ByteByByte);
        var result = runner.Run(new JumpCase(InstructionSet.Amd64, "rel32", PatchMode.Code, 0x1000, 0x4000_0000, 0x2000, "planted"));

        Assert.Multiple(() =>
        {
            Assert.That(result.Failure, Does.StartWith(
                "re-point: with stores 1–3 of 5 landed (last: atomic 1-byte store of 0f at 0x1002), the caller saw e9fb0fff3f and faulted at 0x3FFF2000"));
            Assert.That(result.Failure, Does.Contain("and the stores break the CPU's rules: after store 3 of 5"));
            Assert.That(result.States.Failed, Is.EqualTo(1));
        });
    }

    [Test]
    public void AnArm64LdrBrWrittenBeforeItsLiteralIsCaught()
    {
        // (b) b at 0x1000 to 0x2000 → ldr-br to 0x70_0000_0000 (beyond ADRP's ±4 GiB): LDR x16, #8 and BR x16 land first
        // (one 8-byte store at +0), the literal at +8 last. Between them the LDR loads +8, which holds zeros (the page
        // past the 4-byte B was never written), and BR x16 jumps to 0.
        using var runner = new CaseRunner(InstructionSet.Arm64, writer: PlantedWrites.Arm64LiteralLast);
        var result = runner.Run(new JumpCase(InstructionSet.Arm64, null, PatchMode.Code, 0x1000, 0x2000, 0x70_0000_0000, "planted"));

        Assert.Multiple(() =>
        {
            Assert.That(result.Failure, Does.StartWith("re-point: with store 1 of 2 landed (last: atomic 8-byte store of 5000005800021fd6 at 0x1000), "
                + "the caller saw 5000005800021fd60000000000000000 and faulted at 0x0"));
            Assert.That(result.Failure, Does.Contain("B2.2.5"));
        });
    }

    [Test]
    public void AnArm64LdrSequenceSwappedForABranchInPlaceIsCaughtByTheRules()
    {
        // (c) ldr-br at 0x1000 to 0x70_0000_0000 → b to 0x2000: one aligned word store of B #0x1000 (0x14000400) over
        // the LDR. The emulator sees old or new only (one atomic store), so only the architecture rule catches it.
        using var runner = new CaseRunner(InstructionSet.Arm64, writer: PlantedWrites.Arm64LiteralToBranchInPlace);
        var result = runner.Run(new JumpCase(InstructionSet.Arm64, "ldr-br", PatchMode.Code, 0x1000, 0x70_0000_0000, 0x2000, "planted"));

        Assert.That(result.Failure, Is.EqualTo(
            "re-point: the stores break the CPU's rules: store 1 of 1 (atomic 4-byte store of 00040014 at 0x1000) changes the instruction at +0 "
            + "from LDR (literal) 0x58000050 to B while a caller may execute it: the Arm ARM (DDI 0487, B2.2.5 \"Concurrent modification and "
            + "execution of instructions\") promises the old or the new instruction only when both are B, BL, BRK, HVC, ISB, NOP, SMC or SVC; "
            + "anything else needs the quiescence the runtime tracks"));
    }

    [Test]
    public void AnX86DataLiteralStraddlingACacheLineIsCaught()
    {
        // (d) A data-mode slot at 0x1036 whose literal is not aligned: FF 25 00000000 then the literal at +6 = 0x103C,
        // running to 0x1043 across the line at 0x1040, stored with one 8-byte store as the runtime used to. From
        // 0x7_0000_0000 (00 00 00 00 07 00 00 00) to 0x8_1234_5678 (78 56 34 12 08 00 00 00) five bytes differ; the first
        // mix has only byte +0 new: 0x7_0000_0078, where nothing is mapped.
        using var runner = new CaseRunner(InstructionSet.Amd64, new MisalignedLiteralEncoder(), PlantedLiteralStore);
        var result = runner.Run(new JumpCase(InstructionSet.Amd64, "rip-indirect", PatchMode.Data, 0x1036, 0x7_0000_0000, 0x8_1234_5678, "planted"));

        Assert.Multiple(() =>
        {
            Assert.That(result.Failure, Does.StartWith("re-point: with no store of 1 landed and bytes +0 of store 1 (8-byte store of 7856341208000000 "
                + "at 0x103C, not single-copy atomic), the caller saw ff25000000007800000007000000 and faulted at 0x700000078"));
            Assert.That(result.Failure, Does.Contain("it straddles the 64-byte cache line boundary at 0x1040"));
        });
    }

    [Test]
    public void TheStatesAreEveryPrefixAndEveryMixOfAStoreThatIsNotAtomic()
    {
        var encoder = JumpEncoders.For(InstructionSet.Amd64);

        // Code-mode rip-indirect at 0x1036, literal at 0x103C: 0x7_0000_0000 → 0x8_1234_5678 differs in literal bytes +0..+4
        // (00→78, 00→56, 00→34, 00→12, 07→08). Planted: one 8-byte store there (across the line at 0x1040, so not
        // atomic) and then a 1-byte store of the unchanged entry byte. States: the 3 prefixes, and 2^5 - 2 = 30 strict
        // mixes of the five differing bytes of the first store: 33.
        var form = encoder.Form("rip-indirect");
        var first = encoder.Plan(form, 0x1036, 0x7_0000_0000, PatchMode.Code);
        var writes = PlantedWrites.Repoint(encoder, first, encoder.Plan(form, 0x1036, 0x8_1234_5678, PatchMode.Code), (6, 8), (0, 1));
        var states = IntermediateStates.Of(encoder.Facts, writes, writes.Before.ToArray()).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(states, Has.Count.EqualTo(33));
            Assert.That(states.Count(s => s.Partial == 0), Is.EqualTo(30));
            Assert.That(states.Where(s => s.Partial < 0).Select(s => s.Landed), Is.EqualTo(new[] { 0, 1, 2 }));
            Assert.That(Convert.ToHexStringLower(states[^1].Image), Is.EqualTo(Convert.ToHexStringLower(writes.After.Span)));
        });
    }

    private static SlotWrites PlantedLiteralStore(IJumpEncoder encoder, JumpPlan current, JumpPlan next) =>
        PlantedWrites.Repoint(encoder, current, next, (next.LiteralOffset, 8));

    /// <summary>The amd64 encoder, except that its data-mode literal follows the instruction unaligned (at +6).</summary>
    private sealed class MisalignedLiteralEncoder : IJumpEncoder
    {
        private readonly IJumpEncoder _inner = JumpEncoders.For(InstructionSet.Amd64);

        public CpuFacts Facts => _inner.Facts;

        public IReadOnlyList<JumpForm> Forms => _inner.Forms;

        public JumpForm Form(string name) => _inner.Form(name);

        public long Displacement(JumpForm form, ulong slot, ulong target) => _inner.Displacement(form, slot, target);

        public JumpPlan Plan(ulong slot, ulong target, PatchMode mode) => Misalign(_inner.Plan(slot, target, mode));

        public JumpPlan Plan(JumpForm form, ulong slot, ulong target, PatchMode mode) => Misalign(_inner.Plan(form, slot, target, mode));

        public bool TryPlan(JumpForm form, ulong slot, ulong target, PatchMode mode, out JumpPlan plan, out UnencodableJumpException? refusal)
        {
            bool planned = _inner.TryPlan(form, slot, target, mode, out plan, out refusal);
            plan = planned ? Misalign(plan) : plan;
            return planned;
        }

        public JumpPlan PlanRepoint(in JumpPlan current, ulong newTarget) =>
            Plan(current.Form, current.Slot, newTarget, current.Mode) with { Changed = current.Literal, ChangesInstructions = false, NeedsCacheMaintenance = false };

        public void Encode(in JumpPlan plan, Span<byte> slot) => _inner.Encode(plan, slot);

        public void Write(in JumpPlan plan, Span<byte> slot) => _inner.Write(plan, slot);

        private static JumpPlan Misalign(JumpPlan plan) => plan.Mode == PatchMode.Data
            ? plan with { LiteralOffset = plan.Form.InstructionBytes, Size = plan.Form.InstructionBytes + plan.Form.LiteralBytes, Changed = new ByteRange(0, plan.Form.InstructionBytes + plan.Form.LiteralBytes) }
            : plan;
    }
}
