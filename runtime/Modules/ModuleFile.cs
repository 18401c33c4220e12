using System.Runtime.InteropServices;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace HcrLab.Runtime;

/// <summary>
/// A module file read whole at one moment: its stat (taken first), its bytes and their XXH128. What a change check read
/// is what the reload then checks, copies and loads, so the file is read once per reload and the bytes judged changed
/// are the bytes loaded.
/// </summary>
internal sealed class ModuleFile
{
    /// <summary>The largest module file read, in bytes (1 GiB): a file is read whole, into one array.</summary>
    public const long MaxSize = 1L << 30;

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
    /// <exception cref="ModuleFileRefusedException">It is not a regular file, or larger than <see cref="MaxSize"/>.</exception>
    /// <exception cref="IOException">It exists but cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    public static ModuleFile? Read(string path) => Read(new FileInfo(path));

    /// <inheritdoc cref="Read(string)"/>
    public static ModuleFile? Read(FileInfo stat)
    {
        string path = stat.FullName;

        // The stamp the fingerprint keeps is the one taken before the bytes are read (FileInfo reads it once, when first asked).
        _ = stat.Exists;

        // Judged before it is opened: opening a FIFO waits for a writer, a device never ends (/dev/zero) or acts when
        // opened. Then opened without waiting and judged again, as what was opened: the path may have changed between.
        if (Native.Stat(path, out var named) != 0)
        {
            return Missing() ? null : throw Failure("examine");
        }

        Judge(named);
        int fd = Native.Open(path, Native.OpenReadOnly | Native.OpenNonblock | Native.OpenCloexec | Native.OpenNoControllingTerminal);
        if (fd < 0)
        {
            return Missing() ? null : throw Failure("open");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Native.Fstat(fd, out var opened) != 0)
        {
            throw Failure("examine");
        }

        Judge(opened);

        // Module files are small enough to read whole, at most the size just seen: one array, a few reads.
        byte[] bytes = new byte[opened.Size];
        int filled = 0;
        for (int read; filled < bytes.Length && (read = RandomAccess.Read(handle, bytes.AsSpan(filled), filled)) > 0;)
        {
            filled += read;
        }

        return new ModuleFile(path, stat, filled == bytes.Length ? bytes : bytes[..filled]);

        // A name too long for the kernel names no file, as FileInfo.Exists said before.
        static bool Missing() => Marshal.GetLastPInvokeError() is Native.Enoent or Native.Enotdir or Native.Enametoolong;

        Exception Failure(string what) => Marshal.GetLastPInvokeError() == Native.Eacces
            ? new UnauthorizedAccessException($"cannot {what} {path}: {Native.LastErrorText()}")
            : new IOException($"cannot {what} {path}: {Native.LastErrorText()}");
    }

    /// <summary>Refuses what is not a regular file, or is larger than <see cref="MaxSize"/>.</summary>
    private static void Judge(in Native.FileStatus status)
    {
        if (status.Type != Native.RegularFile)
        {
            throw new ModuleFileRefusedException($"{status.TypeName}, not a regular file (refused before it was opened)");
        }

        if (status.Size > MaxSize)
        {
            throw new ModuleFileRefusedException($"{status.Size} bytes, more than the {MaxSize} a module file may have (refused before it was read)");
        }
    }

    public static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexString(XxHash128.Hash(bytes));
}

/// <summary>A module file refused before it was read: not a regular file, or too large (stage <see cref="ModuleLoadStage.Format"/>).</summary>
internal sealed class ModuleFileRefusedException(string message) : IOException(message);
