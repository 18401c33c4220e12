namespace HcrLab.Lab.External;

/// <summary>What an external encoder did with one request.</summary>
public abstract record EncoderAnswer
{
    /// <summary>One line of hex: the slot's bytes.</summary>
    public sealed record Bytes(byte[] Value) : EncoderAnswer;

    /// <summary>An empty line: the encoder refuses; <paramref name="Reason"/> is what it wrote on standard error, if anything arrived.</summary>
    public sealed record Refusal(string? Reason) : EncoderAnswer;

    /// <summary>A line that is not an even number of hex digits (or is absurdly long).</summary>
    public sealed record Malformed(string Problem) : EncoderAnswer;

    /// <summary>No answer before the deadline: the encoder's process group was killed and the encoder restarted.</summary>
    public sealed record Hang(TimeSpan Deadline) : EncoderAnswer;

    /// <summary>The encoder ended (or closed its output) before answering; it was restarted.</summary>
    public sealed record Crash(string How) : EncoderAnswer;
}
