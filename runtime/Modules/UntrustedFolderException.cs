namespace HcrLab.Runtime;

/// <summary>
/// A folder the runtime would write module copies to, and load them from, could be written by someone else (another
/// user's, open to others, or a link): refused, since a library planted there would run in this process.
/// </summary>
public sealed class UntrustedFolderException(string folder, string problem)
    : HcrException($"the copy folder's parent {folder} {problem}; remove it, or give HcrRuntimeOptions.CopyDirectory a folder of your own")
{
    /// <summary>The folder that was refused.</summary>
    public string Folder { get; } = folder;
}
