using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;
using HcrLab.Lab.Emulation;

namespace HcrLab.Lab.Verification;

/// <summary>
/// Runs cases of one instruction set: the encoder writes the slot into emulated memory, the emulated CPU runs from the
/// slot and must arrive at the right target stub with nothing else clobbered, and the disassemblers must decode the
/// intended target. One runner holds one emulator and one disassembler: use one per thread.
/// </summary>
public sealed class CaseRunner : ICaseRunner
{
    private readonly IJumpEncoder _encoder;
    private readonly EmulatedCpu _cpu;
    private readonly JumpDisassembler _disassembler = new();
    private string? _unverified;

    /// <param name="isa">The instruction set.</param>
    /// <param name="encoder">The encoder under test; the shipped one when null (tests pass a deliberately faulty one).</param>
    public CaseRunner(InstructionSet isa, IJumpEncoder? encoder = null)
    {
        _encoder = encoder ?? JumpEncoders.For(isa);
        _cpu = new EmulatedCpu(isa);
    }

    public InstructionSet Isa => _encoder.Facts.Isa;

    /// <summary>True when the emulator keeps the range for itself (halt address, stack); cases avoid it.</summary>
    public bool IsReserved(ulong address, int length) => EmulatedCpu.IsReserved(address, length);

    /// <summary>The shipped encoders take every case as it is.</summary>
    public JumpCase? Adapt(JumpCase c) => c;

    /// <summary>Runs a case; an exception from the code under test or the lab's own machinery is a failure of that case, not of the run.</summary>
    public CaseResult Run(JumpCase c)
    {
        try
        {
            return RunUnguarded(c);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new CaseResult(c, c.Form ?? "refused", $"unexpected {e.GetType().Name}: {e.Message}", [], null);
        }
    }

    private CaseResult RunUnguarded(JumpCase c)
    {
        var steps = new List<CaseStep>();
        _unverified = null;
        var (expectedForm, expectedRefusal) = c.Expected;
        string row = c.Form ?? expectedForm ?? "refused";
        CaseResult Fail(string why) => new(c, row, why, steps, _unverified);

        JumpPlan plan;
        try
        {
            plan = c.Form is null ? _encoder.Plan(c.Slot, c.Target, c.Mode) : _encoder.Plan(_encoder.Form(c.Form), c.Slot, c.Target, c.Mode);
        }
        catch (UnencodableJumpException refusal)
        {
            return refusal.Reason == expectedRefusal
                ? new CaseResult(c, row, null, steps)
                : Fail(expectedRefusal is null
                    ? $"refused ({refusal.Reason}: {refusal.Detail}) but the oracle expects form {expectedForm}"
                    : $"refused with {refusal.Reason} but the oracle expects {expectedRefusal} ({refusal.Detail})");
        }

        if (expectedRefusal is not null)
        {
            return Fail($"encoded as {plan.Form.Name} but the oracle expects a refusal: {expectedRefusal}");
        }

        if (plan.Form.Name != expectedForm)
        {
            return Fail($"chose {plan.Form.Name} but the shortest correct form is {expectedForm}");
        }

        _cpu.ResetIfOverBudget();
        uint firstValue = StubValue(c.Target, 1);
        uint secondValue = StubValue(c.SecondTarget, 2);
        _cpu.PlaceStub(c.Target, firstValue);
        _cpu.PlaceStub(c.SecondTarget, secondValue);

        // A new case may reuse memory an earlier case ran: its slot is laid out fresh, translations dropped.
        Span<byte> slot = stackalloc byte[plan.Size];
        _encoder.Encode(plan, slot);
        _cpu.WriteFresh(c.Slot, slot);
        string? failure = Check("first write", plan, firstValue, steps);
        if (failure is not null)
        {
            return Fail(failure);
        }

        var repointed = Repoint(plan, c.SecondTarget, secondValue, "re-point", steps, out failure);
        if (failure is not null)
        {
            return Fail(failure);
        }

        Repoint(repointed, c.Target, firstValue, "re-point back", steps, out failure);
        return failure is null ? new CaseResult(c, row, null, steps, _unverified) : Fail(failure);
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _disassembler.Dispose();
    }

    /// <summary>
    /// Applies a re-point the way a patcher would: only the bytes the plan says changed are written, and the emulator's
    /// translations are dropped for exactly that range when the plan says instructions changed. A plan that understates
    /// its change leaves stale code or stale bytes behind, and the run or the decode after it fails.
    /// </summary>
    private JumpPlan Repoint(in JumpPlan current, ulong target, uint value, string what, List<CaseStep> steps, out string? failure)
    {
        JumpPlan next;
        try
        {
            next = _encoder.PlanRepoint(current, target);
        }
        catch (UnencodableJumpException e)
        {
            failure = $"{what}: refused: {e.Detail}";
            return current;
        }

        failure = CheckPatchContract(current, next, what);
        if (failure is not null)
        {
            return next;
        }

        // The slot's bytes as they are; a longer new form extends into bytes (maybe pages) the slot did not use yet.
        Span<byte> slot = stackalloc byte[Math.Max(current.Size, next.Size)];
        slot.Clear();
        _cpu.Read(current.Slot, slot[..current.Size]);
        _encoder.Write(next, slot);
        var changed = next.Changed;
        if (!changed.IsEmpty)
        {
            _cpu.Write(next.Slot + (ulong)changed.Offset, slot.Slice(changed.Offset, changed.Length));
            if (next.ChangesInstructions)
            {
                _cpu.RemoveTranslations(next.Slot + (ulong)changed.Offset, changed.Length);
            }
        }

        failure = Check(what, next, value, steps);
        return next;
    }

    /// <summary>What a re-point plan promises, checked against the mode's contract.</summary>
    private static string? CheckPatchContract(in JumpPlan current, in JumpPlan next, string what)
    {
        if (next.Changed.End > next.Size || next.Changed.Offset < 0)
        {
            return $"{what}: changed range {next.Changed} lies outside the {next.Size}-byte encoding";
        }

        if (next.Mode == PatchMode.Data)
        {
            if (next.Form != current.Form || next.LiteralOffset != current.LiteralOffset)
            {
                return $"{what}: data mode changed the form or moved the literal ({current.Form.Name} → {next.Form.Name})";
            }

            if (!next.Changed.IsWithin(next.Literal) || next.ChangesInstructions || next.NeedsCacheMaintenance)
            {
                return $"{what}: data mode must change only the literal {next.Literal}, with no cache maintenance; the plan changes {next.Changed}";
            }

            if (next.LiteralAddress % (ulong)next.Form.LiteralBytes != 0)
            {
                return $"{what}: the data-mode literal at 0x{next.LiteralAddress:X} is not {next.Form.LiteralBytes}-byte aligned, so one store is not atomic";
            }
        }

        return null;
    }

    private string? Check(string what, in JumpPlan plan, uint expectedValue, List<CaseStep> steps)
    {
        Span<byte> bytes = stackalloc byte[plan.Size];
        _cpu.Read(plan.Slot, bytes);
        var report = _disassembler.Check(plan, bytes);
        steps.Add(new CaseStep(what, plan, Convert.ToHexStringLower(bytes), report.Instructions));
        if (!report.Agrees)
        {
            return $"{what}: the disassembly disagrees: {string.Join("; ", report.Problems)}";
        }

        if (EmulatorDefects.Describe(plan) is { } defect)
        {
            _unverified = $"{what}: {defect}";
            return null;
        }

        var outcome = _cpu.RunFrom(plan.Slot);
        if (outcome.Error is not null)
        {
            return $"{what}: the emulated CPU faulted at 0x{outcome.StoppedAt:X}: {outcome.Error}";
        }

        if (!outcome.ReachedHalt)
        {
            return $"{what}: execution stopped at 0x{outcome.StoppedAt:X} instead of returning through the target";
        }

        if (outcome.Result != expectedValue)
        {
            return $"{what}: the result register holds 0x{outcome.Result:X}, not 0x{expectedValue:X} from the stub at 0x{plan.Target:X}";
        }

        if (outcome.ClobberedRegisters.Count > 0)
        {
            return $"{what}: the slot clobbered {string.Join(", ", outcome.ClobberedRegisters)} (allowed: {_encoder.Facts.ClobberedRegisters})";
        }

        return null;
    }

    /// <summary>A value a stub returns: distinct per target and per role, never zero.</summary>
    internal static uint StubValue(ulong target, uint role) => (uint)((target * 0x9E37_79B9_7F4A_7C15UL) >> 40) << 4 | role;
}
