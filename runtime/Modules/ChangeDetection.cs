namespace HcrLab.Runtime;

/// <summary>How <see cref="HcrRuntime.ReloadNeeded"/>, <see cref="HcrRuntime.HasModuleChanged"/> and a reload find the module files that changed.</summary>
public enum ChangeDetection
{
    /// <summary><see cref="Notify"/> when the kernel offers it to this process, <see cref="Poll"/> otherwise.</summary>
    Auto,

    /// <summary>
    /// The kernel reports changes (inotify on each module file's directory) and a check examines only the files named in
    /// a report since the last check: with nothing changed, a check is one <c>read</c> whatever the number of modules.
    /// A file that cannot be watched (a symbolic link, a directory that went away) is examined on every check. Writes the
    /// kernel does not report are not seen: through a shared mapping of the file, on a network file system by another
    /// machine, through a hard link in another directory; use <see cref="Poll"/> there.
    /// </summary>
    Notify,

    /// <summary>Every check examines every loaded module's file: a <c>stat</c> each, and a hash when the stat differs.</summary>
    Poll,
}
