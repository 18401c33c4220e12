namespace HcrLab.Scenarios;

/// <summary>A line of a steps file that is not a step, an output line or a comment; the message starts with <c>file:line:</c>.</summary>
public sealed class StepsFileException(string file, int line, string problem) : Exception($"{file}:{line}: {problem}")
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public string Problem { get; } = problem;
}
