using System.Security.Cryptography;

namespace HcrLab.Runtime;

/// <summary>
/// A module file read whole at one moment: its stat (taken first), its bytes and their SHA-256. What a change check read
/// is what the reload then checks, copies and loads, so the file is read once per reload and the bytes judged changed
/// are the bytes loaded.
/// </summary>
internal sealed class ModuleFile
{
    private ModuleFile(string path, FileInfo stat, byte[] bytes)
    {
        Path = path;
        Stat = stat;
        Bytes = bytes;
        Hash = HashOf(bytes);
    }

    public string Path { get; }

    /// <summary>Size and time as they were just before the bytes were read.</summary>
    public FileInfo Stat { get; }

    public byte[] Bytes { get; }

    public string Hash { get; }

    /// <summary>Reads <paramref name="path"/>, or returns null when it does not exist.</summary>
    /// <exception cref="IOException">It exists but cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    public static ModuleFile? Read(string path) => Read(new FileInfo(path));

    /// <inheritdoc cref="Read(string)"/>
    public static ModuleFile? Read(FileInfo stat)
    {
        if (!stat.Exists)
        {
            return null;
        }

        // Module files are small enough to read whole: one read instead of a buffered stream's many.
        return new ModuleFile(stat.FullName, stat, File.ReadAllBytes(stat.FullName));
    }

    public static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
