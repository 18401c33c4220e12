namespace HcrLab.Lab.Emulation;

/// <summary>A Unicorn call returned an error: the code and Unicorn's own words for it (<c>uc_strerror</c>).</summary>
public sealed class UnicornException : Exception
{
    public UnicornException(UnicornError error, string unicornMessage, string operation)
        : base($"{operation} failed: {unicornMessage}")
    {
        Error = error;
        UnicornMessage = unicornMessage;
    }

    public UnicornError Error { get; }

    /// <summary>Unicorn's message for <see cref="Error"/>, e.g. <c>Invalid memory fetch (UC_ERR_FETCH_UNMAPPED)</c>.</summary>
    public string UnicornMessage { get; }

    /// <summary>
    /// True when the emulated code faulted (unmapped or protected memory, misalignment, an invalid instruction, an unhandled
    /// CPU exception) rather than the engine being misused: a result to report, not a bug in the caller.
    /// </summary>
    public bool IsEmulationFault => Error is
        UnicornError.ReadUnmapped or UnicornError.WriteUnmapped or UnicornError.FetchUnmapped
        or UnicornError.ReadProtected or UnicornError.WriteProtected or UnicornError.FetchProtected
        or UnicornError.ReadUnaligned or UnicornError.WriteUnaligned or UnicornError.FetchUnaligned
        or UnicornError.InvalidInstruction or UnicornError.CpuException;
}
