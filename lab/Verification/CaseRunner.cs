using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;
using HcrLab.Lab.Emulation;

namespace HcrLab.Lab.Verification;

/// <summary>
/// Runs cases of one instruction set: the encoder writes the slot into emulated memory, the emulated CPU runs from the
/// slot and must arrive at the right target stub with nothing else clobbered, and the disassemblers must decode the
/// intended target. Each re-point is performed as the encoders' store list (<see cref="SlotWriter"/>), and every state a
/// caller could see while those stores land is run too (<see cref="IntermediateStates"/>) and checked against the CPU's
/// rules (<see cref="StoreRules"/>). One runner holds one emulator and one disassembler: use one per thread.
/// </summary>
public sealed class CaseRunner : ICaseRunner
{
    private readonly IJumpEncoder _encoder;
    private readonly Func<IJumpEncoder, JumpPlan, JumpPlan, SlotWrites> _writer;
    private readonly EmulatedCpu _cpu;
    private readonly JumpDisassembler _disassembler = new();
    private string? _unverified;
    private StateCounts _states;

    /// <param name="isa">The instruction set.</param>
    /// <param name="encoder">The encoder under test; the shipped one when null (tests pass a deliberately faulty one).</param>
    /// <param name="writer">The slot writer under test; the shipped <see cref="SlotWriter.Repoint"/> when null (tests plant unsafe ones).</param>
    public CaseRunner(InstructionSet isa, IJumpEncoder? encoder = null, Func<IJumpEncoder, JumpPlan, JumpPlan, SlotWrites>? writer = null)
    {
        _encoder = encoder ?? JumpEncoders.For(isa);
        _writer = writer ?? SlotWriter.Repoint;
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
        _states = default;
        var (expectedForm, expectedRefusal) = c.Expected;
        string row = c.Form ?? expectedForm ?? "refused";
        CaseResult Fail(string why) => new(c, row, why, steps, _unverified, States: _states);

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
        var slot = new byte[plan.Size];
        SlotWriter.FirstWrite(_encoder, plan).ApplyTo(slot, plan.Slot);
        _cpu.WriteFresh(c.Slot, slot);
        string? failure = Check("first write", plan, firstValue, steps);
        if (failure is not null)
        {
            return Fail(failure);
        }

        var repointed = Repoint(plan, c.SecondTarget, firstValue, secondValue, "re-point", steps, out failure);
        if (failure is not null)
        {
            return Fail(failure);
        }

        Repoint(repointed, c.Target, secondValue, firstValue, "re-point back", steps, out failure);
        return failure is null ? new CaseResult(c, row, null, steps, _unverified, States: _states) : Fail(failure);
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _disassembler.Dispose();
    }

    /// <summary>
    /// Applies a re-point the way the runtime does: the encoders' stores, in order. Before the last one lands, every
    /// intermediate state is run (<see cref="RunStates"/>). After it, the emulator's translations are dropped for exactly
    /// the stored ranges when the plan says instructions changed: a plan that understates its change leaves stale code or
    /// stale bytes behind, and the run or the decode after it fails.
    /// </summary>
    private JumpPlan Repoint(in JumpPlan current, ulong target, uint oldValue, uint value, string what, List<CaseStep> steps, out string? failure)
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

        if (next.Changed.End > next.Size || next.Changed.Offset < 0)
        {
            failure = $"{what}: changed range {next.Changed} lies outside the {next.Size}-byte encoding";
            return next;
        }

        var writes = _writer(_encoder, current, next);

        // The slot's bytes as they are; a longer new form extends into bytes (maybe pages) the slot did not use yet.
        var before = new byte[writes.After.Length];
        try
        {
            _cpu.Read(current.Slot, before);
        }
        catch (UnicornException)
        {
            // Past the current encoding the bytes may be on a page nothing mapped yet: they read as zeros.
            Array.Clear(before);
            _cpu.Read(current.Slot, before.AsSpan(0, current.Size));
        }

        // What callers see while the stores land comes first: it says what goes wrong, the contract only what was promised.
        failure = RunStates(what, writes, before, oldValue, value, out bool ranStates) ?? CheckPatchContract(current, next, writes, what);
        if (failure is not null)
        {
            return next;
        }

        // The states ran other bytes from the slot: run the old state again, so that the stores land on the translations
        // a caller of the old code left, and only the plan's claim of what changed decides which are dropped.
        if (ranStates)
        {
            _cpu.Write(writes.Slot, before);
            _cpu.RemoveTranslations(writes.Slot, before.Length);
            _cpu.RunFrom(writes.Slot);
        }

        foreach (var store in writes.Stores)
        {
            _cpu.Write(store.Address, store.Bytes.Span);
            if (next.ChangesInstructions)
            {
                _cpu.RemoveTranslations(store.Address, store.Width);
            }
        }

        failure = Check(what, next, value, steps);
        return next;
    }

    /// <summary>
    /// Runs a caller from the slot in every state of <paramref name="writes"/> that the case does not run anyway (the
    /// states before and after are the previous step's and the next one's), with the translations of the slot dropped
    /// as a CPU with coherent fetch would see it. Each must return through the old target or the new one, or wait in the
    /// CPU's self-loop at the slot. Writes that need quiescence are counted, not run: no caller runs during them.
    /// </summary>
    private string? RunStates(string what, SlotWrites writes, byte[] before, uint oldValue, uint newValue, out bool ran)
    {
        ran = false;
        if (!writes.WhileCallersRun)
        {
            _states += new StateCounts(0, 1, 0, 0);
            return null;
        }

        string? broken = StoreRules.Check(_encoder.Facts, writes) is [var first, ..] ? $"{what}: the stores break the CPU's rules: {first}" : null;
        if (EmulatorDefects.Describe(writes.Plan) is not null || (writes.Previous is { } previous && EmulatorDefects.Describe(previous) is not null))
        {
            _states += new StateCounts(1, 0, 0, broken is null ? 0 : 1);
            return broken;
        }

        int last = writes.Stores.Count;
        int states = 0;
        string? failure = null;
        foreach (var state in IntermediateStates.Of(_encoder.Facts, writes, before))
        {
            states++;
            if (state.Partial < 0 && (state.Landed == 0 || state.Landed == last))
            {
                continue;
            }

            ran = true;
            _cpu.Write(writes.Slot, state.Image);
            _cpu.RemoveTranslations(writes.Slot, state.Image.Length);
            if (Judge(state, writes, oldValue, newValue) is { } seen)
            {
                failure = $"{what}: with {state.Describe(writes)}, the caller saw {Convert.ToHexStringLower(state.Image)} and {seen}";
                break;
            }
        }

        _states += new StateCounts(1, 0, states, failure is null && broken is null ? 0 : 1);
        return failure is null ? broken : broken is null ? failure : $"{failure}; and {broken[(what.Length + 2)..]}";
    }

    /// <summary>Why a caller's run in <paramref name="state"/> is not safe, or null when it reached a target or waits in the self-loop.</summary>
    private string? Judge(SlotState state, SlotWrites writes, uint oldValue, uint newValue)
    {
        var outcome = _cpu.RunFrom(writes.Slot);
        var loop = _encoder.Facts.SelfLoop;
        string targets = $"neither the old target 0x{writes.Previous?.Target:X} nor the new 0x{writes.Plan.Target:X}";
        if (outcome.Error is not null)
        {
            return $"faulted at 0x{outcome.StoppedAt:X} ({outcome.Error}): {targets}";
        }

        if (!outcome.ReachedHalt)
        {
            bool waits = (outcome.StoppedAt & ~1UL) == writes.Slot && state.Image.AsSpan().StartsWith(loop);
            return waits ? null : $"was still running at 0x{outcome.StoppedAt:X} after {EmulatedCpu.MaxInstructions} instructions, not in the slot's self-loop: {targets}";
        }

        if (outcome.Result != oldValue && outcome.Result != newValue)
        {
            return $"returned 0x{outcome.Result:X}, the value of {targets}";
        }

        return outcome.ClobberedRegisters.Count > 0
            ? $"clobbered {string.Join(", ", outcome.ClobberedRegisters)} (allowed: {_encoder.Facts.ClobberedRegisters})"
            : null;
    }

    /// <summary>What a re-point plan promises, checked against the mode's contract.</summary>
    private static string? CheckPatchContract(in JumpPlan current, in JumpPlan next, SlotWrites writes, string what)
    {
        if (next.Mode == PatchMode.Data)
        {
            if (!writes.WhileCallersRun)
            {
                return $"{what}: a data-mode re-point must be safe while callers run, but its stores need quiescence ({writes.Protocol})";
            }

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
