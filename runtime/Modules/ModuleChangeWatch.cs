using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// Which loaded modules' files may have changed since they were last examined, from inotify reports on the directories
/// that hold them (<see cref="ChangeDetection.Notify"/>). Directories, not files: a build usually replaces a library by
/// renaming a new file over it, which a watch on the old file would not see.
/// <para>
/// No change is lost: a module's directory is watched before its file is first examined (<see cref="Watch"/>, called
/// before the library is copied), and a module is cleared only after an examination that followed the last
/// <see cref="Drain"/>, so a write racing with that examination leaves a report for the next drain. A module the watch
/// does not cover (a symbolic link, a directory that went away, a lost queue) is always a suspect.
/// </para>
/// Not thread-safe: the runtime calls it under its lock.
/// </summary>
internal sealed unsafe class ModuleChangeWatch : IDisposable
{
    // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[len]; } (inotify(7)).
    private const int EventHeaderSize = 16;
    private const uint InModify = 0x2, InAttrib = 0x4, InCloseWrite = 0x8, InMovedFrom = 0x40, InMovedTo = 0x80;
    private const uint InCreate = 0x100, InDelete = 0x200, InDeleteSelf = 0x400, InMoveSelf = 0x800;
    private const uint InUnmount = 0x2000, InQueueOverflow = 0x4000, InIgnored = 0x8000, InOnlyDirectory = 0x01000000;

    /// <summary>Everything that can change what a name in the directory holds, and the directory's own end.</summary>
    private const uint Mask = InModify | InAttrib | InCloseWrite | InMovedFrom | InMovedTo | InCreate | InDelete
        | InDeleteSelf | InMoveSelf | InOnlyDirectory;

    private readonly int _descriptor;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Dictionary<int, WatchedDirectory> _byWatch = [];
    private readonly Dictionary<string, WatchedDirectory> _byPath = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (WatchedDirectory Directory, string Path)> _modules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _suspects = new(StringComparer.Ordinal);
    private bool _disposed;

    private ModuleChangeWatch(int descriptor) => _descriptor = descriptor;

    /// <summary>The watch, or null with the reason when this process cannot have one (no inotify, or its instance limit reached).</summary>
    public static ModuleChangeWatch? TryCreate(out string? reason)
    {
        int descriptor = Native.InotifyInit1(Native.InotifyNonblock | Native.InotifyCloexec);
        reason = descriptor < 0 ? $"inotify_init1 failed: {Native.LastErrorText()}" : null;
        return descriptor < 0 ? null : new ModuleChangeWatch(descriptor);
    }

    /// <summary>
    /// Watches the directory of <paramref name="path"/> for <paramref name="module"/>; call it before the file is examined
    /// or copied. False when the file cannot be watched: it is then a suspect at every check.
    /// </summary>
    public bool Watch(string module, string path)
    {
        // A suspect stays one: a reload that loaded its new file may still be rolled back.
        Unmap(module);
        string? directoryPath = System.IO.Path.GetDirectoryName(path);
        if (directoryPath is null || new FileInfo(path).LinkTarget is not null)
        {
            // The directory of a link reports changes to the link, not to the file it points at.
            return false;
        }

        if (!_byPath.TryGetValue(directoryPath, out var directory))
        {
            int watch = Native.InotifyAddWatch(_descriptor, directoryPath, Mask);
            if (watch < 0)
            {
                return false;
            }

            // A directory known under two paths (a link to it) gets the same watch back.
            if (!_byWatch.TryGetValue(watch, out directory))
            {
                directory = new WatchedDirectory(watch);
                _byWatch.Add(watch, directory);
            }

            directory.Paths.Add(directoryPath);
            _byPath.Add(directoryPath, directory);
        }

        string file = System.IO.Path.GetFileName(path);
        if (!directory.ModulesByFile.TryGetValue(file, out var modules))
        {
            directory.ModulesByFile.Add(file, modules = new HashSet<string>(StringComparer.Ordinal));
        }

        modules.Add(module);
        _modules.Add(module, (directory, path));
        return true;
    }

    /// <summary>Stops watching for <paramref name="module"/> (unloaded); a directory no module is in any more is unwatched.</summary>
    public void Forget(string module)
    {
        _suspects.Remove(module);
        Unmap(module);
    }

    private void Unmap(string module)
    {
        if (!_modules.Remove(module, out var entry))
        {
            return;
        }

        var directory = entry.Directory;
        string file = System.IO.Path.GetFileName(entry.Path);
        if (directory.ModulesByFile.TryGetValue(file, out var modules) && modules.Remove(module) && modules.Count == 0)
        {
            directory.ModulesByFile.Remove(file);
        }

        if (directory.ModulesByFile.Count == 0 && _byWatch.Remove(directory.Watch))
        {
            Native.InotifyRmWatch(_descriptor, directory.Watch);
            foreach (string path in directory.Paths)
            {
                _byPath.Remove(path);
            }
        }
    }

    /// <summary>Reads every queued report and marks the modules they name as suspects.</summary>
    public void Drain()
    {
        fixed (byte* buffer = _buffer)
        {
            while (true)
            {
                nint read = Native.Read(_descriptor, buffer, (nuint)_buffer.Length);
                if (read <= 0)
                {
                    // EAGAIN: the queue is empty. Any other error: nothing more to read now; the next drain tries again.
                    return;
                }

                Absorb(_buffer.AsSpan(0, (int)read));
            }
        }
    }

    /// <summary>Marks the modules named by a buffer of <c>inotify_event</c> records (what <c>read</c> returns).</summary>
    private void Absorb(ReadOnlySpan<byte> events)
    {
        while (events.Length >= EventHeaderSize)
        {
            int watch = BinaryPrimitives.ReadInt32LittleEndian(events);
            uint mask = BinaryPrimitives.ReadUInt32LittleEndian(events[4..]);
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(events[12..]);
            var name = events.Slice(EventHeaderSize, Math.Min(length, events.Length - EventHeaderSize));
            events = events[Math.Min(events.Length, EventHeaderSize + length)..];

            if ((mask & InQueueOverflow) != 0)
            {
                // Reports were dropped: any file may have changed.
                _suspects.UnionWith(_modules.Keys);
                continue;
            }

            if (!_byWatch.TryGetValue(watch, out var directory))
            {
                continue;
            }

            if ((mask & (InDeleteSelf | InMoveSelf | InUnmount | InIgnored)) != 0)
            {
                // The directory went away: its modules are examined at every check until they are watched again.
                foreach (string module in directory.ModulesByFile.Values.SelectMany(m => m).ToList())
                {
                    Forget(module);
                }

                continue;
            }

            int end = name.IndexOf((byte)0);
            string file = System.Text.Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
            if (directory.ModulesByFile.TryGetValue(file, out var modules))
            {
                _suspects.UnionWith(modules);
            }
        }
    }

    /// <summary>
    /// True when <paramref name="module"/> must be examined: a report named its file since it was last cleared, or the
    /// watch does not cover <paramref name="path"/>. An uncovered module is watched again first where that works now.
    /// </summary>
    public bool MayHaveChanged(string module, string path)
    {
        if (_modules.TryGetValue(module, out var entry) && entry.Path == path)
        {
            return _suspects.Contains(module);
        }

        Watch(module, path);
        return true;
    }

    /// <summary>
    /// The module's file was examined after the last drain: it stays a suspect while it differs from what was loaded
    /// (until a reload loads it), and is cleared when it does not.
    /// </summary>
    public void Examined(string module, bool differs)
    {
        if (differs)
        {
            _suspects.Add(module);
        }
        else
        {
            _suspects.Remove(module);
        }
    }

    /// <summary>
    /// A reload loaded the module from a copy made after the last drain: whatever was reported before is in that copy,
    /// and later writes are still queued.
    /// </summary>
    public void Loaded(string module) => _suspects.Remove(module);

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Native.Close(_descriptor);
        }
    }

    private sealed class WatchedDirectory(int watch)
    {
        public int Watch { get; } = watch;

        public List<string> Paths { get; } = [];

        public Dictionary<string, HashSet<string>> ModulesByFile { get; } = new(StringComparer.Ordinal);
    }
}
