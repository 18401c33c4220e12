using HcrLab.Encoders;
using HcrLab.Lab.Verification;

namespace HcrLab.Tests.Lab;

/// <summary>
/// The runner executes every case of the fixed matrix in the emulator, and it is not a rubber stamp: an encoder that
/// understates what a re-point changed is caught, on x86 and on ARM.
/// </summary>
[Category("Emulation")]
public sealed class CaseRunnerTests
{
    [TestCase("i386")]
    [TestCase("amd64")]
    [TestCase("arm")]
    [TestCase("thumb")]
    [TestCase("arm64")]
    public void EveryCaseOfTheFixedMatrixPassesAndEveryFormRuns(string arch)
    {
        var isa = InstructionSetNames.Parse(arch);
        using var runner = new CaseRunner(isa);
        var results = CaseMatrix.For(isa, runner.IsReserved).Select(runner.Run).ToList();
        var failures = results.Where(r => !r.Passed).Select(r => $"{r.Case}: {r.Failure}").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(failures, Is.Empty);
            foreach (var form in JumpEncoders.For(isa).Forms)
            {
                Assert.That(
                    results.Count(r => r.Passed && r.Unverified is null && r.Steps.Any(s => s.Plan.Form == form)),
                    Is.GreaterThan(3),
                    $"{form.Name} executed in the emulator");
            }
        });
    }

    private static IEnumerable<TestCaseData> UnderstatedChanges()
    {
        // Each case's first target is near (a short relative form) and its second far (a literal form), so the
        // re-point rewrites instructions.
        (InstructionSet Isa, ulong Slot, ulong Near, ulong Far)[] layouts =
        [
            (InstructionSet.Amd64, 0x2_0000_0000, 0x2_0000_0040, 0x7_0000_0000),
            (InstructionSet.Arm64, 0x2_0000_0000, 0x2_0000_0040, 0x7_0000_0000),
            (InstructionSet.Thumb, 0x4000_0000, 0x4000_0041, 0x8000_0001),
            (InstructionSet.I386, 0x4000_0000, 0x4000_0040, 0x8000_0000),
        ];
        foreach (var (isa, slot, near, far) in layouts)
        {
            var c = new JumpCase(isa, null, PatchMode.Code, slot, near, far, "near+");
            yield return new TestCaseData(c, Lie.ClaimsNoInstructionChanged, "re-point: the result register holds 0x")
                .SetName($"{isa.ShortName()}: a re-point that hides its instruction change runs stale code");
            yield return new TestCaseData(c, Lie.OmitsFirstChangedByte, "re-point: the disassembly disagrees")
                .SetName($"{isa.ShortName()}: a re-point that omits a changed byte leaves wrong bytes");
        }
    }

    [TestCaseSource(nameof(UnderstatedChanges))]
    public void ARepointThatUnderstatesItsChangeFails(JumpCase c, Lie lie, string expectedFailure)
    {
        using var honest = new CaseRunner(c.Isa, new LyingEncoder(JumpEncoders.For(c.Isa), Lie.None));
        using var lying = new CaseRunner(c.Isa, new LyingEncoder(JumpEncoders.For(c.Isa), lie));

        var control = honest.Run(c);
        var caught = lying.Run(c);

        Assert.Multiple(() =>
        {
            Assert.That(control.Failure, Is.Null, "the same case through an honest wrapper passes");
            Assert.That(caught.Failure, Does.StartWith(expectedFailure));
        });
    }

    [Test]
    public void AnI386Rel8WrapIsCountedUnverifiedNotPassedSilently()
    {
        // Slot 0x40, target 0xFFFFFFC2: rel8 = 0xFFFFFFC2 - 0x42 = -0x80 mod 2^32, the farthest backward rel8, wrapping.
        using var runner = new CaseRunner(InstructionSet.I386);
        var result = runner.Run(new JumpCase(InstructionSet.I386, "rel8", PatchMode.Code, 0x40, 0xFFFF_FFC2, 0x8000_0040, "wrap"));

        Assert.Multiple(() =>
        {
            Assert.That(result.Failure, Is.Null);
            Assert.That(result.Unverified, Does.Contain("does not wrap a 32-bit jmp rel8"));
            Assert.That(result.Steps[0].Bytes, Is.EqualTo("eb80"));
        });
    }

    [Test]
    public void ARepointAcrossAPageBoundaryRunsTheNewCodeOnBothPages()
    {
        // Found by the random cases: an arm64 slot at a page's last word. ADRP (0x...0FFC) and ADD/BR (next page) are
        // translated apart; the re-point to 0x...CFFC changes ADRP's page and ADD's #lo12 (0xFEC → 0xFFC), the
        // changed range [+0, +6) crosses the page, and Unicorn must drop the translations on both pages.
        // Derivation: pages = 0x588FE561C - 0x588EE5620 = 0xFFFFC (immlo 0, immhi 0x3FFFF) → ADRP 0x907FFFF0 → f0ff7f90;
        // ADD #0xFFC → 0x91000210 | 0xFFC << 10 = 0x913FF210 → 10f23f91; BR X16 → 00021fd6. The first write had
        // pages 0x8000 (ADRP 0x90040010) and #0xFEC (ADD 0x913FB210 → 10b23f91), so bytes +0..+3 and +5 differ.
        using var runner = new CaseRunner(InstructionSet.Arm64);
        var result = runner.Run(new JumpCase(InstructionSet.Arm64, "adrp-add-br", PatchMode.Code, 0x588E_E562_0FFC, 0x588E_ED62_0FEC, 0x588F_E561_CFFC, "page"));

        Assert.Multiple(() =>
        {
            Assert.That(result.Failure, Is.Null);
            Assert.That(result.Steps[1].Plan.Changed, Is.EqualTo(new ByteRange(0, 6)));
            Assert.That(result.Steps[1].Bytes, Is.EqualTo("f0ff7f90" + "10f23f91" + "00021fd6"));
        });
    }

    public enum Lie
    {
        None,
        ClaimsNoInstructionChanged,
        OmitsFirstChangedByte,
    }

    /// <summary>The shipped encoder, except that its re-point plans understate what they change.</summary>
    private sealed class LyingEncoder(IJumpEncoder inner, Lie lie) : IJumpEncoder
    {
        public CpuFacts Facts => inner.Facts;

        public IReadOnlyList<JumpForm> Forms => inner.Forms;

        public JumpForm Form(string name) => inner.Form(name);

        public long Displacement(JumpForm form, ulong slot, ulong target) => inner.Displacement(form, slot, target);

        public JumpPlan Plan(ulong slot, ulong target, PatchMode mode) => inner.Plan(slot, target, mode);

        public JumpPlan Plan(JumpForm form, ulong slot, ulong target, PatchMode mode) => inner.Plan(form, slot, target, mode);

        public bool TryPlan(JumpForm form, ulong slot, ulong target, PatchMode mode, out JumpPlan plan, out UnencodableJumpException? refusal) =>
            inner.TryPlan(form, slot, target, mode, out plan, out refusal);

        public JumpPlan PlanRepoint(in JumpPlan current, ulong newTarget)
        {
            var plan = inner.PlanRepoint(current, newTarget);
            return lie switch
            {
                Lie.ClaimsNoInstructionChanged => plan with { ChangesInstructions = false, NeedsCacheMaintenance = false },
                Lie.OmitsFirstChangedByte => plan with { Changed = new ByteRange(plan.Changed.Offset + 1, plan.Changed.Length - 1) },
                _ => plan,
            };
        }

        public void Encode(in JumpPlan plan, Span<byte> slot) => inner.Encode(plan, slot);

        public void Write(in JumpPlan plan, Span<byte> slot) => inner.Write(plan, slot);
    }
}
