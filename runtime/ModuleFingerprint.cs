using System.Security.Cryptography;

namespace HcrLab.Runtime;

/// <summary>
/// What a module file looked like when it was loaded: size and modification time (cheap to compare) and a hash of the
/// bytes actually loaded (decisive). A file whose size or time differ is rehashed, so a <c>touch</c> is not a change;
/// when the recorded time has no sub-second part (a coarse file system) a same-looking file is rehashed too, so a
/// rebuild within the same second is still seen.
/// </summary>
internal sealed class ModuleFingerprint
{
    private ModuleFingerprint(long size, DateTime lastWriteUtc, string contentHash)
    {
        Size = size;
        LastWriteUtc = lastWriteUtc;
        ContentHash = contentHash;
    }

    public long Size { get; private set; }

    public DateTime LastWriteUtc { get; private set; }

    public string ContentHash { get; }

    /// <summary>The original's size and time (read before its bytes) with the hash of the bytes that were loaded.</summary>
    public static ModuleFingerprint Of(FileInfo original, ReadOnlySpan<byte> loaded) =>
        new(original.Length, original.LastWriteTimeUtc, HashOf(loaded));

    /// <summary>True when <paramref name="path"/> exists and holds other bytes than the ones loaded.</summary>
    /// <param name="path">The module's file.</param>
    /// <param name="trustStat">
    /// False to hash even when size and time look the same: the kernel stamps times at its clock tick (a few
    /// milliseconds), so two writes within one tick look alike; a caller that knows the file was written (a change
    /// report) passes false.
    /// </param>
    public bool DiffersFrom(string path, bool trustStat = true)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            // Mid-rebuild, or removed: nothing to load, so not a change.
            return false;
        }

        bool sameStat = file.Length == Size && file.LastWriteTimeUtc == LastWriteUtc;
        if (trustStat && sameStat && LastWriteUtc.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return false;
        }

        string hash;
        try
        {
            hash = HashOf(path);
        }
        catch (IOException)
        {
            return false;
        }

        if (hash != ContentHash)
        {
            return true;
        }

        // Same bytes under a new time stamp: remember the stamp so the next check is cheap again.
        Size = file.Length;
        LastWriteUtc = file.LastWriteTimeUtc;
        return false;
    }

    private static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    // Module files are small enough to read whole: one read instead of a buffered stream's many.
    private static string HashOf(string path) => HashOf(File.ReadAllBytes(path));
}
