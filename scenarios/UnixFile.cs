using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace HcrLab.Scenarios;

/// <summary>The kind of a file, from the type bits of its mode (S_IFMT, POSIX sys/stat.h).</summary>
public enum UnixFileKind
{
    Other,
    Regular,
    Directory,
    SymbolicLink,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
}

/// <summary>
/// What <c>statx(2)</c> says about a file: its kind, permission bits, owner and size. .NET has no owner API on Unix, and
/// <c>statx</c>'s buffer has one layout on every CPU (unlike <c>struct stat</c>), so it is read here by offset.
/// </summary>
public readonly partial record struct UnixFile(UnixFileKind Kind, UnixFileMode Permissions, uint Owner, long Size)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;

    // struct statx (linux/stat.h): stx_uid at 20, stx_mode (u16) at 28, stx_size at 40; 256 bytes in all.
    private const int BufferSize = 256;
    private const int UidOffset = 20;
    private const int ModeOffset = 28;
    private const int SizeOffset = 40;

    /// <summary>The effective user id of this process, which owns what it creates.</summary>
    public static uint EffectiveUser => GetEuid();

    /// <summary>The file at <paramref name="path"/> itself (a symbolic link is reported as one, not followed).</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="IOException">It cannot be examined (a folder on the way is not searchable); the message says why.</exception>
    public static UnixFile OfLink(string path) => Stat(AtFdCwd, path, AtSymlinkNoFollow, path);

    /// <summary>The file an open handle refers to.</summary>
    public static UnixFile Of(SafeFileHandle handle, string path)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Stat((int)handle.DangerousGetHandle(), "", AtEmptyPath, path);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>The kind in words, for messages: "a FIFO", "a character device".</summary>
    public static string Describe(UnixFileKind kind) => kind switch
    {
        UnixFileKind.Regular => "a regular file",
        UnixFileKind.Directory => "a directory",
        UnixFileKind.SymbolicLink => "a symbolic link",
        UnixFileKind.Fifo => "a FIFO",
        UnixFileKind.CharacterDevice => "a character device",
        UnixFileKind.BlockDevice => "a block device",
        UnixFileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    private static unsafe UnixFile Stat(int directory, string path, int flags, string name)
    {
        byte* buffer = stackalloc byte[BufferSize];
        if (Statx(directory, path, flags, StatxBasicStats, buffer) != 0)
        {
            const int NoSuchFile = 2; // ENOENT
            string message = $"{name}: {Marshal.GetLastPInvokeErrorMessage()}";
            throw Marshal.GetLastPInvokeError() == NoSuchFile ? new FileNotFoundException(message, name) : new IOException(message);
        }

        int mode = *(ushort*)(buffer + ModeOffset);
        var kind = (mode & 0xf000) switch
        {
            0x8000 => UnixFileKind.Regular,
            0x4000 => UnixFileKind.Directory,
            0xa000 => UnixFileKind.SymbolicLink,
            0x1000 => UnixFileKind.Fifo,
            0x2000 => UnixFileKind.CharacterDevice,
            0x6000 => UnixFileKind.BlockDevice,
            0xc000 => UnixFileKind.Socket,
            _ => UnixFileKind.Other,
        };
        return new UnixFile(kind, (UnixFileMode)(mode & 0xfff), *(uint*)(buffer + UidOffset), *(long*)(buffer + SizeOffset));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}
