namespace HcrLab.Lab.Emulation;

/// <summary>What one run from a slot did.</summary>
/// <param name="Result">The result register after the run, zero-extended (on 32-bit CPUs the low 32 bits only).</param>
/// <param name="StoppedAt">The program counter when the run stopped: the halt address, the faulting address, or where the instruction limit ran out.</param>
/// <param name="ReachedHalt">True when the run returned to the halt address without a fault.</param>
/// <param name="ClobberedRegisters">Names of registers the run should have left unchanged but did not, including a wrong stack pointer or link register.</param>
/// <param name="Error">Unicorn's message when the emulated code faulted (e.g. <c>Invalid memory fetch (UC_ERR_FETCH_UNMAPPED)</c>), otherwise null.</param>
public sealed record RunOutcome(
    ulong Result,
    ulong StoppedAt,
    bool ReachedHalt,
    IReadOnlyList<string> ClobberedRegisters,
    string? Error)
{
    /// <summary>True when the run returned cleanly with <paramref name="expected"/> and left every preserved register alone.</summary>
    public bool Returned(uint expected) => ReachedHalt && Result == expected && ClobberedRegisters.Count == 0;

    public override string ToString()
    {
        string ending = Error is not null ? $"faulted at 0x{StoppedAt:X}: {Error}"
            : ReachedHalt ? "returned"
            : $"stopped at 0x{StoppedAt:X} without returning";
        string clobbered = ClobberedRegisters.Count == 0 ? "" : $", clobbered {string.Join(", ", ClobberedRegisters)}";
        return $"{ending}, result 0x{Result:X}{clobbered}";
    }
}
