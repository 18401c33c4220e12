using System.Globalization;

namespace HcrLab.Runtime;

/// <summary>
/// The folders a runtime writes its module copies to when the host names none (<see cref="HcrRuntimeOptions.CopyDirectory"/>):
/// one per runtime, <c>hcrlab-PID-START-GUID</c>, in a parent of this user's (<see cref="DefaultParent"/>) that must be a
/// directory owned by this user that no one else may enter (mode 0700, created so): the copies are loaded with
/// <c>dlopen</c>, so a folder someone else can write to would run their code. A host that dies (a signal, <c>_exit</c>)
/// cannot remove its folder; the next runtime to start removes the folders of processes that no longer run.
/// </summary>
internal static class CopyFolders
{
    private const string Prefix = "hcrlab-";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>This user's parent of copy folders: <c>$TMPDIR/hcrlab-UID</c> (<c>/tmp/hcrlab-1000</c>).</summary>
    public static string DefaultParent => Path.Combine(Path.GetTempPath(), $"{Prefix}{Native.GetEffectiveUserId()}");

    /// <summary>
    /// Makes sure <paramref name="parent"/> is this user's alone (creating it 0700 when missing), removes the copy
    /// folders of processes that no longer run, and creates a new folder for this process there.
    /// </summary>
    /// <exception cref="UntrustedFolderException">The parent is not a directory, is another user's, or others may enter it.</exception>
    /// <exception cref="IOException">A folder cannot be created.</exception>
    public static string Create(string parent)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the runtime's copy folders are Linux's (/proc, modes and owners)");
        }

        Directory.CreateDirectory(parent, OwnerOnly);
        Trust(parent);
        RemoveStale(parent);
        string folder = Path.Combine(parent, $"{Prefix}{Environment.ProcessId}-{StartTime(Environment.ProcessId)}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder, OwnerOnly);
        return folder;
    }

    /// <summary>Refuses <paramref name="parent"/> unless it is a directory (not a link to one), owned by this user, that no one else may enter.</summary>
    /// <exception cref="UntrustedFolderException">It is not.</exception>
    public static void Trust(string parent)
    {
        uint me = Native.GetEffectiveUserId();
        string? problem = Native.Lstat(parent, out var status) != 0 ? $"cannot be examined: {Native.LastErrorText()}"
            : status.Type != Native.DirectoryFile ? $"is {status.TypeName}, not a directory"
            : status.Owner != me ? $"is owned by uid {status.Owner}, not by this user (uid {me})"
            : (status.Permissions & 0x3F) != 0 ? $"has mode {Convert.ToString(status.Permissions, 8)}: other users may enter it (it must be 700)"
            : null;
        if (problem is not null)
        {
            throw new UntrustedFolderException(parent, problem);
        }
    }

    /// <summary>
    /// Removes the copy folders in <paramref name="parent"/> whose process no longer runs: no process has the pid in
    /// the name, or the one that has it started after the time recorded (the pid was reused). Only directories owned by
    /// this user are removed; names of another form, and folders of running processes, are left alone.
    /// <para>
    /// "Started after", not "started at another time": the recorded time is one the owner read while it ran, and the
    /// pid cannot have had another holder that started at or before it and still runs. Under qemu-user the owner reads
    /// qemu's emulation of its own <c>/proc/PID/stat</c>, whose start time qemu measures itself a tick or two after the
    /// kernel's; an exact match made every other runtime remove a running arm64 host's folder under it.
    /// </para>
    /// </summary>
    /// <returns>How many folders were removed.</returns>
    public static int RemoveStale(string parent)
    {
        uint me = Native.GetEffectiveUserId();
        int removed = 0;
        foreach (string folder in Directory.EnumerateFileSystemEntries(parent, $"{Prefix}*"))
        {
            if (Owner(Path.GetFileName(folder)) is not var (pid, start) || StartTime(pid) <= start
                || Native.Lstat(folder, out var status) != 0 || status.Type != Native.DirectoryFile || status.Owner != me)
            {
                continue;
            }

            try
            {
                Directory.Delete(folder, recursive: true);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another runtime removing it at the same time, or a file in it that is not ours: left as it is.
            }
        }

        return removed;
    }

    /// <summary>The pid and start time a folder name <c>hcrlab-PID-START-GUID</c> records, or null for another name.</summary>
    private static (int Pid, ulong Start)? Owner(string name) =>
        name[Prefix.Length..].Split('-') is [var pid, var start, _]
        && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int p)
        && ulong.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out ulong s)
            ? (p, s)
            : null;

    /// <summary>
    /// When process <paramref name="pid"/> started, in clock ticks after boot (field 22 of <c>/proc/PID/stat</c>), or
    /// null when no such process runs. A pid and its start time name one process: a reused pid starts later.
    /// </summary>
    internal static ulong? StartTime(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "PID (COMM) STATE ..." where COMM may hold spaces and parentheses: the fields after the last ')' start at 3.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start) ? start : null;
    }
}
