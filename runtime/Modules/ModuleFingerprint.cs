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

    /// <summary>True when the last <see cref="DiffersFrom"/> found no file at the path (deleted, or mid-rebuild).</summary>
    public bool FileMissing { get; private set; }

    /// <summary>The file's size and time (taken before its bytes were read) with the hash of the bytes that were loaded.</summary>
    public static ModuleFingerprint Of(ModuleFile loaded) => new(loaded.Stat.Length, loaded.Stat.LastWriteTimeUtc, loaded.Hash);

    /// <summary>True when <paramref name="path"/> exists and holds other bytes than the ones loaded.</summary>
    /// <param name="path">The module's file.</param>
    /// <param name="trustStat">
    /// False to hash even when size and time look the same: the kernel stamps times at its clock tick (a few
    /// milliseconds), so two writes within one tick look alike; a caller that knows the file was written (a change
    /// report) passes false.
    /// </param>
    /// <param name="changed">When the result is true, the file as it was read and found different: load these bytes.</param>
    public bool DiffersFrom(string path, bool trustStat, out ModuleFile? changed)
    {
        changed = null;
        var stat = new FileInfo(path);
        FileMissing = !stat.Exists;
        if (FileMissing)
        {
            // Mid-rebuild, or removed: nothing to load, so not a change (the runtime reports it).
            return false;
        }

        bool sameStat = stat.Length == Size && stat.LastWriteTimeUtc == LastWriteUtc;
        if (trustStat && sameStat && LastWriteUtc.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return false;
        }

        ModuleFile? file;
        try
        {
            file = ModuleFile.Read(stat);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        if (file is null)
        {
            return false;
        }

        if (file.Hash != ContentHash)
        {
            changed = file;
            return true;
        }

        // Same bytes under a new time stamp: remember the stamp so the next check is cheap again.
        Size = stat.Length;
        LastWriteUtc = stat.LastWriteTimeUtc;
        return false;
    }
}
