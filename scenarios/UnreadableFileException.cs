namespace HcrLab.Scenarios;

/// <summary>A file the tools were given that they will not read: missing, unreadable, not a regular file, or too large.</summary>
public sealed class UnreadableFileException(string path, string problem) : IOException($"{path}: {problem}")
{
    public string Path { get; } = path;

    public string Problem { get; } = problem;
}
