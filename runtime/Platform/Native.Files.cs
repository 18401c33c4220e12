using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>The libc calls for files' types, owners and modes (statx, whose result has one layout on every CPU).</summary>
internal static partial class Native
{
    public const int Enoent = 2;
    public const int Eacces = 13;
    public const int Enotdir = 20;
    public const int Enametoolong = 36;

    public const uint FileTypeMask = 0xF000;   // S_IFMT
    public const uint RegularFile = 0x8000;    // S_IFREG
    public const uint DirectoryFile = 0x4000;  // S_IFDIR
    public const uint SymbolicLink = 0xA000;   // S_IFLNK

    public const int OpenReadOnly = 0;
    public const int OpenNonblock = 0x800;     // O_NONBLOCK: opening a FIFO does not wait for a writer
    public const int OpenNoControllingTerminal = 0x100;
    public const int OpenCloexec = 0x80000;

    /// <summary>
    /// What <c>statx</c> told of a file: its <c>struct statx</c> (linux/stat.h), whose layout is the same on every CPU
    /// (unlike <c>struct stat</c>: 144 bytes on x86-64, 128 in another order on arm64), 256 bytes.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct FileStatus
    {
        [FieldOffset(20)]
        public uint Owner;

        [FieldOffset(24)]
        public uint Group;

        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(40)]
        public long Size;

        public readonly uint Type => (uint)Mode & FileTypeMask;

        /// <summary>The permission bits (and set-id and sticky bits).</summary>
        public readonly uint Permissions => (uint)Mode & 0xFFF;

        /// <summary>What the type is, in words: "a FIFO", "a directory".</summary>
        public readonly string TypeName => Type switch
        {
            RegularFile => "a regular file",
            DirectoryFile => "a directory",
            SymbolicLink => "a symbolic link",
            0x1000 => "a FIFO",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => $"a file of type 0x{Type:x}",
        };
    }

    // statx (glibc 2.28): AT_FDCWD, AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH have the same values on every CPU.
    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7FF;

    public static int Stat(string path, out FileStatus status) => Statx(AtCurrentDirectory, path, 0, StatxBasicStats, out status);

    public static int Lstat(string path, out FileStatus status) => Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxBasicStats, out status);

    public static int Fstat(int fd, out FileStatus status) => Statx(fd, "", AtEmptyPath, StatxBasicStats, out status);

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, out FileStatus status);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();
}
