namespace HcrLab.Scenarios;

/// <summary>A cache folder that another user could write to, or that is not a folder at all: refused, not used.</summary>
public sealed class PrivateFolderException(string folder, string problem)
    : IOException($"refusing to use {folder}: {problem}; files there could have been planted by someone else. "
        + "Remove it, or make it yours with mode 0700 (chmod 700), if you trust its contents")
{
    public string Folder { get; } = folder;

    public string Problem { get; } = problem;
}
