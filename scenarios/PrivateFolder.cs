namespace HcrLab.Scenarios;

/// <summary>
/// Folders only this user can write, for what the tools cache and later load or run (built module libraries). A
/// folder in a shared place such as <c>/tmp</c> may have been made by someone else, world-writable, with a library
/// planted in it: so each level is created 0700 and, on every use, must be a real directory (not a symbolic link)
/// owned by this user that neither group nor others may write (a folder of the user's made 0755 is private enough:
/// nobody else can put or replace a file in it). Anything else is refused with
/// <see cref="PrivateFolderException"/>, never repaired: the user decides what to do with a folder they do not own.
/// </summary>
public static class PrivateFolder
{
    /// <summary>The user's cache for HcrLab: <c>$XDG_CACHE_HOME/hcrlab</c>, or <c>~/.cache/hcrlab</c> (XDG Base Directory specification).</summary>
    public static string CacheRoot
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");

            // The specification says a relative XDG_CACHE_HOME is invalid and must be ignored.
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            string root = xdg is { Length: > 0 } && Path.IsPathRooted(xdg) ? xdg : Path.Combine(home, ".cache");
            return Path.Combine(root, "hcrlab");
        }
    }

    /// <summary>
    /// <c>CacheRoot/part/part...</c>, created and checked level by level from <see cref="CacheRoot"/> down (the cache's
    /// own parent, the user's <c>~/.cache</c>, is created if missing but not judged).
    /// </summary>
    /// <exception cref="PrivateFolderException">A level is not a directory private to this user.</exception>
    public static string UserCache(params string[] parts)
    {
        string folder = Ensure(CacheRoot);
        foreach (string part in parts)
        {
            folder = Ensure(Path.Combine(folder, part));
        }

        return folder;
    }

    /// <summary>Creates <paramref name="path"/> (mode 0700) when missing, then checks it is private to this user.</summary>
    /// <exception cref="PrivateFolderException">It is a symbolic link or not a directory, another user owns it, or group or others may write to it.</exception>
    public static string Ensure(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("private folders are checked by Unix owner and mode");
        }

        string full = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (IOException)
        {
            // Something else is there (a file, a dangling link); the check below says what.
        }

        UnixFile facts;
        try
        {
            facts = UnixFile.OfLink(full);
        }
        catch (IOException e)
        {
            throw new PrivateFolderException(full, $"it cannot be examined ({e.Message})");
        }

        uint me = UnixFile.EffectiveUser;
        const UnixFileMode GroupOrOthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        string? problem = facts.Kind != UnixFileKind.Directory
            ? $"it is {UnixFile.Describe(facts.Kind)}, not a directory"
            : facts.Owner != me
                ? $"it is owned by user {facts.Owner}, not by this user ({me})"
                : (facts.Permissions & GroupOrOthersWrite) != 0
                    ? $"its mode is {Convert.ToString((int)facts.Permissions, 8).PadLeft(4, '0')}: group or others may write to it (0700 expected)"
                    : null;
        return problem is null ? full : throw new PrivateFolderException(full, problem);
    }
}
