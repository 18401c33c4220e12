namespace HcrLab.Runtime;

/// <summary>
/// A bounded range of executable memory in which no page is ever writable and executable at once. One memfd backs two
/// views at different addresses: code and data are written through the read-write view and executed through the
/// read-execute view, and both see the same bytes because they map the same pages. Both views are reserved in full at
/// creation (no access) and committed in <see cref="CommitChunk"/> steps as allocations grow; an allocation past the
/// capacity throws <see cref="ExecutableMemoryFullException"/>.
/// <para>
/// The executable view is placed within <c>rel32</c> reach (±2 GiB) of an anchor mapping — by default libc, next to which
/// the dynamic loader maps the modules — by reading <c>/proc/self/maps</c> for a free gap and claiming it with
/// <c>MAP_FIXED_NOREPLACE</c>. When no gap fits it goes anywhere; <see cref="IsNearAnchor"/> says which happened.
/// </para>
/// </summary>
public sealed unsafe class ExecutableMemory : IDisposable
{
    /// <summary>How far a <c>rel32</c> displacement reaches, less a margin so that every byte of both ranges is in reach.</summary>
    public const ulong Rel32Reach = 0x7FFF_0000;

    /// <summary>The granularity of commits: 64 KiB keeps the number of mappings small as a table grows.</summary>
    public const ulong CommitChunk = 64 * 1024;

    /// <summary>The anchor used when none is given: libc's mappings.</summary>
    public const string DefaultAnchor = "libc.so";

    private const string MemfdName = "hcrlab-jump-table";
    private const int MaxPlacementAttempts = 32;

    private readonly Lock _lock = new();
    private int _fd;
    private ulong _committed;
    private ulong _used;
    private bool _disposed;

    private ExecutableMemory(int fd, nint writable, nint executable, ulong capacity, MemoryMapping? anchor, bool nearAnchor, string placement)
    {
        _fd = fd;
        WritableBase = writable;
        ExecutableBase = executable;
        Capacity = capacity;
        Anchor = anchor;
        IsNearAnchor = nearAnchor;
        Placement = placement;
    }

    /// <summary>Bytes reserved (a multiple of <see cref="CommitChunk"/>): the most that can ever be allocated.</summary>
    public ulong Capacity { get; }

    /// <summary>Bytes mapped in both views so far.</summary>
    public ulong Committed => Volatile.Read(ref _committed);

    /// <summary>Bytes handed out by <see cref="Allocate"/> so far (including alignment padding).</summary>
    public ulong Used => Volatile.Read(ref _used);

    /// <summary>Start of the read-write view: write here.</summary>
    public nint WritableBase { get; }

    /// <summary>Start of the read-execute view: execute here.</summary>
    public nint ExecutableBase { get; }

    /// <summary>The extent of the anchor's mappings when one was found, else null.</summary>
    public MemoryMapping? Anchor { get; }

    /// <summary>True when every byte of the executable view is within <see cref="Rel32Reach"/> of every byte of the anchor.</summary>
    public bool IsNearAnchor { get; }

    /// <summary>Where the executable view went and why, in words (for logs and reports).</summary>
    public string Placement { get; }

    /// <summary>
    /// Reserves <paramref name="capacity"/> bytes (rounded up to <see cref="CommitChunk"/>) in both views, the executable
    /// one near the mappings whose path contains <paramref name="anchor"/> when the address space allows it.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not linux-x64.</exception>
    /// <exception cref="HcrException">The kernel refused the memfd or a mapping.</exception>
    public static ExecutableMemory Reserve(ulong capacity, string? anchor = DefaultAnchor)
    {
        Native.RequireLinuxX64();
        ArgumentOutOfRangeException.ThrowIfZero(capacity);
        capacity = AlignUp(capacity, CommitChunk);

        int fd = Native.MemfdCreate(MemfdName, Native.MfdCloexec);
        if (fd < 0)
        {
            throw new HcrException($"memfd_create failed: {Native.LastErrorText()}");
        }

        nint executable = 0, writable = 0;
        try
        {
            var (exec, anchorExtent, near, placement) = ReserveExecutableView(capacity, anchor);
            executable = exec;
            writable = ReserveAnywhere(capacity);
            return new ExecutableMemory(fd, writable, executable, capacity, anchorExtent, near, placement);
        }
        catch
        {
            if (executable != 0)
            {
                Native.Munmap(executable, (nuint)capacity);
            }

            Native.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// Hands out <paramref name="size"/> bytes aligned to <paramref name="alignment"/> and returns their offset from both
    /// bases, committing pages first. Thread-safe.
    /// </summary>
    /// <exception cref="ExecutableMemoryFullException">The capacity is exhausted.</exception>
    public ulong Allocate(int size, int alignment)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ulong offset = AlignUp(_used, (ulong)alignment);
            ulong end = offset + (ulong)size;
            if (end > Capacity)
            {
                throw new ExecutableMemoryFullException(Capacity, _used, (ulong)size);
            }

            if (end > _committed)
            {
                Commit(AlignUp(end, CommitChunk));
            }

            Volatile.Write(ref _used, end);
            return offset;
        }
    }

    /// <summary>The writable bytes at <paramref name="offset"/>; they must lie in an allocation.</summary>
    public Span<byte> Writable(ulong offset, int length)
    {
        RequireAllocated(offset, length);
        return new Span<byte>((byte*)WritableBase + offset, length);
    }

    /// <summary>The bytes at <paramref name="offset"/> as the executable view shows them.</summary>
    public ReadOnlySpan<byte> Executable(ulong offset, int length)
    {
        RequireAllocated(offset, length);
        return new ReadOnlySpan<byte>((byte*)ExecutableBase + offset, length);
    }

    /// <summary>The writable view's address of the byte at <paramref name="offset"/>.</summary>
    public nint WritableAddress(ulong offset) => WritableBase + (nint)offset;

    /// <summary>The executable view's address of the byte at <paramref name="offset"/>.</summary>
    public nint ExecutableAddress(ulong offset) => ExecutableBase + (nint)offset;

    /// <summary>True when <paramref name="address"/> lies in the executable view's reserved range.</summary>
    public bool ContainsExecutable(nint address) => (ulong)address - (ulong)ExecutableBase < Capacity;

    /// <summary>Unmaps both views. Code still running in the executable view, or called later, faults.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Native.Munmap(ExecutableBase, (nuint)Capacity);
            Native.Munmap(WritableBase, (nuint)Capacity);
            Native.Close(_fd);
            _fd = -1;
        }
    }

    /// <summary>Use, capacity, both views' addresses and the placement, in one line.</summary>
    public override string ToString() =>
        $"executable memory: {Used}/{Capacity} bytes used, {Committed} committed; rx at 0x{ExecutableBase:x}, rw at 0x{WritableBase:x}; {Placement}";

    private void Commit(ulong newCommitted)
    {
        ulong delta = newCommitted - _committed;
        if (Native.Ftruncate(_fd, (long)newCommitted) != 0)
        {
            throw new HcrException($"cannot grow the executable memory to {newCommitted} bytes: ftruncate: {Native.LastErrorText()}");
        }

        // MAP_FIXED replaces only our own no-access reservation, never someone else's mapping.
        MapShared(WritableBase + (nint)_committed, delta, Native.ProtRead | Native.ProtWrite, (long)_committed);
        MapShared(ExecutableBase + (nint)_committed, delta, Native.ProtRead | Native.ProtExec, (long)_committed);
        Volatile.Write(ref _committed, newCommitted);
    }

    private void MapShared(nint address, ulong length, int protection, long fileOffset)
    {
        nint result = Native.Mmap(address, (nuint)length, protection, Native.MapShared | Native.MapFixed, _fd, fileOffset);
        if (result != address)
        {
            throw new HcrException($"cannot commit {length} bytes of executable memory at 0x{address:x}: mmap: {Native.LastErrorText()}");
        }
    }

    private void RequireAllocated(ulong offset, int length)
    {
        if (length < 0 || offset + (ulong)length > Used || offset + (ulong)length < offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is not inside the {Used} allocated bytes");
        }
    }

    private static (nint Address, MemoryMapping? Anchor, bool Near, string Placement) ReserveExecutableView(ulong capacity, string? anchorName)
    {
        if (anchorName is null)
        {
            return (ReserveAnywhere(capacity), null, false, "anywhere (no anchor requested)");
        }

        var mappings = ProcessMemoryMap.Read();
        var anchored = mappings.Where(m => System.IO.Path.GetFileName(m.Path).Contains(anchorName, StringComparison.Ordinal)).ToList();
        if (anchored.Count == 0)
        {
            return (ReserveAnywhere(capacity), null, false, $"anywhere (no mapping named like '{anchorName}')");
        }

        var anchor = new MemoryMapping(anchored.Min(m => m.Start), anchored.Max(m => m.End), "----", anchored[0].Path);
        ulong page = (ulong)Environment.SystemPageSize;
        ulong low = anchor.End > Rel32Reach + page * 16 ? anchor.End - Rel32Reach : page * 16;
        ulong high = anchor.Start + Rel32Reach;
        int attempts = 0;
        foreach (ulong candidate in ProcessMemoryMap.FreeBlocksNear(mappings, anchor.Start, capacity, low, high, page))
        {
            if (++attempts > MaxPlacementAttempts)
            {
                break;
            }

            nint address = Native.Mmap((nint)candidate, (nuint)capacity, Native.ProtNone,
                Native.MapPrivate | Native.MapAnonymous | Native.MapNoReserve | Native.MapFixedNoReplace, -1, 0);
            if (address == (nint)candidate)
            {
                return (address, anchor, true, $"within rel32 reach of {anchor.Path} (0x{anchor.Start:x}-0x{anchor.End:x})");
            }

            // Taken since /proc/self/maps was read (EEXIST), or a pre-4.17 kernel took the flag as a hint: try the next gap.
            if (address != Native.MapFailed)
            {
                Native.Munmap(address, (nuint)capacity);
            }
        }

        return (ReserveAnywhere(capacity), anchor, false,
            $"anywhere (no free {capacity}-byte gap within rel32 reach of {anchor.Path} after {attempts} attempts)");
    }

    private static nint ReserveAnywhere(ulong capacity)
    {
        nint address = Native.Mmap(0, (nuint)capacity, Native.ProtNone,
            Native.MapPrivate | Native.MapAnonymous | Native.MapNoReserve, -1, 0);
        if (address == Native.MapFailed)
        {
            throw new HcrException($"cannot reserve {capacity} bytes of address space: mmap: {Native.LastErrorText()}");
        }

        return address;
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
