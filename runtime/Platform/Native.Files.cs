using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>The libc calls for files' types, owners and modes (glibc 2.33 and later export stat, fstat and lstat).</summary>
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
    public const int OpenNoFollow = 0x20000;
    public const int OpenDirectory = 0x10000;

    /// <summary><c>struct stat</c> as the x86-64 kernel and glibc lay it out (144 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FileStatus
    {
        public ulong Device;
        public ulong Inode;
        public ulong LinkCount;
        public uint Mode;
        public uint Owner;
        public uint Group;
        private readonly uint _padding;
        public ulong SpecialDevice;
        public long Size;
        public long BlockSize;
        public long Blocks;
        public long AccessSeconds;
        public long AccessNanoseconds;
        public long ModifySeconds;
        public long ModifyNanoseconds;
        public long ChangeSeconds;
        public long ChangeNanoseconds;
        private readonly long _reserved0;
        private readonly long _reserved1;
        private readonly long _reserved2;

        public readonly uint Type => Mode & FileTypeMask;

        /// <summary>The permission bits (and set-id and sticky bits).</summary>
        public readonly uint Permissions => Mode & 0xFFF;

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

    [LibraryImport(Libc, EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Stat(string path, out FileStatus status);

    [LibraryImport(Libc, EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lstat(string path, out FileStatus status);

    [LibraryImport(Libc, EntryPoint = "fstat", SetLastError = true)]
    public static partial int Fstat(int fd, out FileStatus status);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();
}
