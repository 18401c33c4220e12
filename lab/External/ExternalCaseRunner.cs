using System.Buffers.Binary;
using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;
using HcrLab.Lab.Emulation;
using HcrLab.Lab.Host;
using HcrLab.Lab.Verification;

namespace HcrLab.Lab.External;

/// <summary>
/// Runs cases through an external encoder. The lab does not know that encoder's forms, so it judges each answer by what
/// it does: the first instruction as both disassemblers read it, a run in the emulated CPU (right stub, nothing outside
/// the declared scratch set changed), and in data mode a re-point that writes only an aligned literal; a refusal is held
/// to the reach oracle. Failure sentences start with a fixed phrase (README, "Verifying your own encoder").
/// </summary>
public sealed class ExternalCaseRunner : ICaseRunner
{
    /// <summary>The most bytes an answer may hold: the room every case leaves for its slot (<see cref="CaseMatrix.Fits"/>).</summary>
    public const int MaxAnswerBytes = 32;

    private readonly EncoderProcess _encoder;
    private readonly IJumpEncoder _shipped;
    private readonly EmulatedCpu _cpu;
    private readonly JumpDisassembler _disassembler = new();

    /// <summary>For showing whole answers only: decoding a literal as code can leave Capstone in a Thumb IT block, which must not reach the judging one.</summary>
    private readonly JumpDisassembler _display = new();
    private readonly IReadOnlySet<string> _scratch;
    private readonly IReadOnlyList<PatchMode> _modes;
    private readonly HostCpu? _host;

    /// <param name="isa">The instruction set.</param>
    /// <param name="command">The encoder's command line.</param>
    /// <param name="deadline">How long the encoder may take for one answer.</param>
    /// <param name="host">This machine's CPU, to run each answer on as well (<c>--on host|both</c>), or null.</param>
    /// <exception cref="ExternalEncoderException">The encoder does not start or its handshake is wrong.</exception>
    public ExternalCaseRunner(InstructionSet isa, EncoderCommandLine command, TimeSpan deadline, HostCpu? host = null)
    {
        _host = host;
        _encoder = new EncoderProcess(command, deadline);
        _shipped = JumpEncoders.For(isa);
        _scratch = _encoder.Handshake.ScratchOf(isa);
        _modes = _encoder.Handshake.Modes;
        _cpu = new EmulatedCpu(isa, _scratch);
    }

    public InstructionSet Isa => _shipped.Facts.Isa;

    public bool IsReserved(ulong address, int length) => EmulatedCpu.IsReserved(address, length);

    /// <summary>
    /// The request without a form (the protocol has none), in a mode the encoder serves. Without its form a case may
    /// expect an encoding where the forced form expected a refusal, so its layout is checked again.
    /// </summary>
    public JumpCase? Adapt(JumpCase c)
    {
        if (!_modes.Contains(c.Mode))
        {
            return null;
        }

        var request = c.Form is null ? c : new JumpCase(c.Isa, null, c.Mode, c.Slot, c.Target, c.SecondTarget, c.Distance);
        return CaseMatrix.Fits(request, IsReserved) ? request : null;
    }

    public CaseResult Run(JumpCase c)
    {
        var (expectedForm, expectedRefusal) = c.Expected;
        string row = expectedForm ?? "refused";
        string request = EncoderProcess.Request(c.Isa, c.Mode, c.Slot, c.Target);
        CaseResult Fail(string why, CaseAnswer? answer = null) => new(c, row, why, [], Answer: answer);

        switch (_encoder.Ask(request))
        {
            case EncoderAnswer.Hang hang:
                return Fail($"encoder hang: no answer to '{request}' within {hang.Deadline.TotalSeconds:0.#} s; its process group was killed and it was restarted");
            case EncoderAnswer.Crash crash:
                return Fail($"encoder crash: {crash.How} before answering '{request}'; it was restarted");
            case EncoderAnswer.Malformed malformed:
                return Fail($"malformed answer: {malformed.Problem}");
            case EncoderAnswer.Refusal:
                return expectedRefusal is not null ? new CaseResult(c, row, null, [])
                    : Fail($"missed reach: refused, but {expectedForm} reaches ({ShortestSize(c, expectedForm!)} bytes)");
            case EncoderAnswer.Bytes { Value: var bytes }:
                // Shown with failures only: decoding every answer whole would cost more than judging it.
                CaseAnswer Show() => new(Convert.ToHexStringLower(bytes), _display.Disassemble(c.Isa, c.Slot, bytes));
                if (bytes.Length > MaxAnswerBytes)
                {
                    return Fail($"overlong answer: {bytes.Length} bytes, more than the {MaxAnswerBytes} a slot may use", Show());
                }

                if (expectedRefusal is not null)
                {
                    return Fail($"answered a request that must be refused ({expectedRefusal})", Show());
                }

                _cpu.ResetIfOverBudget();
                var (failure, unverified) = Judge(c, bytes);
                string? hostSkipped = null;
                if (failure is null && _host is not null)
                {
                    (failure, hostSkipped) = OnHost(c, bytes, emulated: unverified is null);
                    unverified = failure is null && hostSkipped is null ? null : unverified;
                }

                if (failure is not null)
                {
                    return Fail(failure, Show());
                }

                int shortest = ShortestSize(c, expectedForm!);
                string? note = bytes.Length > shortest ? $"longer: {bytes.Length} bytes where {expectedForm} takes {shortest}" : null;
                return new CaseResult(c, row, null, [], unverified, note, HostSkipped: hostSkipped);
            default:
                throw new InvalidOperationException("unknown answer");
        }
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _cpu.Dispose();
        _disassembler.Dispose();
        _display.Dispose();
        _host?.Dispose();
    }

    /// <summary>The failure sentence for an answer's bytes, or null; and why it could only be judged by disassembly, if so.</summary>
    private (string? Failure, string? Unverified) Judge(JumpCase c, byte[] bytes)
    {
        var facts = _shipped.Facts;
        ulong destination = facts.HasThumbBit ? c.Target & ~1UL : c.Target;
        var (first, decoded, problem) = _disassembler.DecodeFirstJump(c.Isa, c.Slot, bytes);
        if (first is null)
        {
            return ($"undecodable: Capstone cannot decode the first instruction of {Convert.ToHexStringLower(bytes)} at 0x{c.Slot:x}", null);
        }

        if (problem is not null)
        {
            return ($"disassembly: {problem}", null);
        }

        if (decoded is { } branch)
        {
            if (branch != destination)
            {
                return ($"wrong target: '{first.Text}' at 0x{c.Slot:x} branches to 0x{branch:x}, not 0x{destination:x}", null);
            }

            bool thumbTarget = (c.Target & 1) != 0;
            if (facts.HasThumbBit && thumbTarget != (c.Isa == InstructionSet.Thumb))
            {
                return ($"wrong state: '{first.Text}' at 0x{c.Slot:x} stays in {(c.Isa == InstructionSet.Thumb ? "Thumb" : "A32")} state, "
                    + $"but the target 0x{c.Target:x} is {(thumbTarget ? "Thumb" : "A32")} code", null);
            }
        }

        // The shipped encoder's bytes for the same request: an answer equal to them is held to the full disassembly check,
        // and one the emulator cannot run right (EmulatorDefects) is judged by the disassemblers only.
        if (MatchShipped(c, bytes) is { } plan)
        {
            var report = _disassembler.Check(plan, bytes);
            if (!report.Agrees)
            {
                return ($"disassembly: {string.Join("; ", report.Problems)}", null);
            }

            if (EmulatorDefects.Describe(plan) is { } defect)
            {
                return (null, defect);
            }
        }

        uint firstValue = CaseRunner.StubValue(c.Target, 1);
        _cpu.PlaceStub(c.Target, firstValue);
        _cpu.WriteFresh(c.Slot, bytes);
        if (Execution(c, c.Target, firstValue) is { } wrong)
        {
            return (StateHint(c, bytes) ?? wrong, null);
        }

        return c.Mode == PatchMode.Data ? (Repoint(c, bytes, firstValue), null) : (null, null);
    }

    /// <summary>What went wrong when running from the slot towards the stub at <paramref name="target"/>, or null when it arrived cleanly.</summary>
    private string? Execution(JumpCase c, ulong target, uint value)
    {
        var outcome = _cpu.RunFrom(c.Slot);
        if (outcome.Error is not null)
        {
            return $"wrong target: the emulated CPU faulted at 0x{outcome.StoppedAt:x} ({outcome.Error}) instead of running the stub at 0x{target:x}";
        }

        if (!outcome.ReachedHalt || outcome.Result != value)
        {
            return $"wrong target: the run {(outcome.ReachedHalt ? $"returned 0x{outcome.Result:x}" : $"stopped at 0x{outcome.StoppedAt:x}")}, "
                + $"not 0x{value:x} from the stub at 0x{target:x}";
        }

        if (outcome.ClobberedRegisters.Count > 0)
        {
            return $"clobbered {string.Join(", ", outcome.ClobberedRegisters)} beyond the declared scratch set "
                + $"({(_scratch.Count == 0 ? "none" : string.Join(", ", _scratch.Order()))})";
        }

        return null;
    }

    /// <summary>
    /// Data mode: the answer must hold the target in a literal aligned to its size, and writing the second target into
    /// that literal alone (one store, no translation dropped) must send the next call there, and back again.
    /// </summary>
    private string? Repoint(JumpCase c, byte[] bytes, uint firstValue)
    {
        int size = _shipped.Facts.PointerSize;
        var (aligned, unaligned) = FindLiteral(c, bytes);
        if (aligned is not { } literal)
        {
            return unaligned is { } at
                ? $"data mode: the literal at +{at} (0x{c.Slot + (ulong)at:x}) is not {size}-byte aligned, so re-pointing it is not one atomic store"
                : $"data mode: no {size}-byte literal in the answer holds the target 0x{c.Target:x}";
        }

        uint secondValue = CaseRunner.StubValue(c.SecondTarget, 2);
        _cpu.PlaceStub(c.SecondTarget, secondValue);
        Span<byte> store = stackalloc byte[size];
        foreach (var (target, value, what) in new[] { (c.SecondTarget, secondValue, "re-point"), (c.Target, firstValue, "re-point back") })
        {
            WriteLiteral(store, target);
            _cpu.Write(c.Slot + (ulong)literal, store);
            if (Execution(c, target, value) is { } wrong)
            {
                return $"data mode: after the {what} of the literal at +{literal} to 0x{target:x}: {wrong}";
            }
        }

        return null;
    }

    /// <summary>The first literal in the answer that holds the target, aligned to its size and not.</summary>
    private (int? Aligned, int? Unaligned) FindLiteral(JumpCase c, byte[] bytes)
    {
        int size = _shipped.Facts.PointerSize;
        int? aligned = null;
        int? unaligned = null;
        for (int offset = 0; offset + size <= bytes.Length; offset++)
        {
            if (ReadLiteral(bytes.AsSpan(offset, size)) == c.Target)
            {
                if ((c.Slot + (ulong)offset) % (ulong)size == 0)
                {
                    aligned ??= offset;
                }
                else
                {
                    unaligned ??= offset;
                }
            }
        }

        return (aligned, unaligned);
    }

    /// <summary>
    /// The answer on this machine's CPU, at the case's addresses: the first write and, in data mode, the bytes with the
    /// literal re-pointed. A disagreement with the emulator's verdict (which passed) is the failure; or why it was skipped.
    /// </summary>
    private (string? Failure, string? Skipped) OnHost(JumpCase c, byte[] bytes, bool emulated)
    {
        var steps = new List<(string What, byte[] Bytes, ulong Target)> { ("first write", bytes, c.Target) };
        if (c.Mode == PatchMode.Data && FindLiteral(c, bytes).Aligned is { } literal)
        {
            byte[] moved = (byte[])bytes.Clone();
            WriteLiteral(moved.AsSpan(literal, _shipped.Facts.PointerSize), c.SecondTarget);
            steps.Add(("re-point", moved, c.SecondTarget));
        }

        Span<byte> stub = stackalloc byte[TargetStub.MaxSize];
        foreach (var (what, code, target) in steps)
        {
            uint value = CaseRunner.StubValue(target, 3);
            int size = TargetStub.Write(Isa, value, stub);
            var outcome = _host!.Run(c.Slot, code, target, stub[..size]);
            if (outcome.Skipped is { } reason)
            {
                return (null, reason);
            }

            if (!outcome.Returned(value))
            {
                return (HostCheckedRunner.Disagreement(what, emulated, target, outcome, value), null);
            }
        }

        return (null, null);
    }

    /// <summary>On ARM, a failed run with the target's other state in a literal: the Thumb bit was lost (or invented).</summary>
    private string? StateHint(JumpCase c, byte[] bytes)
    {
        if (!_shipped.Facts.HasThumbBit)
        {
            return null;
        }

        for (int offset = 0; offset + 4 <= bytes.Length; offset += 2)
        {
            if (ReadLiteral(bytes.AsSpan(offset, 4)) == (c.Target ^ 1))
            {
                return (c.Target & 1) != 0
                    ? $"wrong state: the literal at +{offset} holds 0x{c.Target ^ 1:x} without the Thumb bit, so the Thumb target 0x{c.Target:x} runs in A32 state"
                    : $"wrong state: the literal at +{offset} holds 0x{c.Target ^ 1:x} with the Thumb bit, so the A32 target 0x{c.Target:x} runs in Thumb state";
            }
        }

        return null;
    }

    private JumpPlan? MatchShipped(JumpCase c, byte[] bytes)
    {
        Span<byte> ours = stackalloc byte[MaxAnswerBytes * 2];
        foreach (var form in _shipped.Forms)
        {
            try
            {
                var plan = _shipped.Plan(form, c.Slot, c.Target, c.Mode);
                if (plan.Size == bytes.Length)
                {
                    _shipped.Encode(plan, ours);
                    if (ours[..plan.Size].SequenceEqual(bytes))
                    {
                        return plan;
                    }
                }
            }
            catch (UnencodableJumpException)
            {
                // This form does not reach; another may match.
            }
        }

        return null;
    }

    private int ShortestSize(JumpCase c, string form) => _shipped.Plan(_shipped.Form(form), c.Slot, c.Target, c.Mode).Size;

    private static ulong ReadLiteral(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    private static void WriteLiteral(Span<byte> bytes, ulong value)
    {
        if (bytes.Length == 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
        }
    }
}
