namespace HcrLab.Runtime;

/// <summary>
/// A bounded range of executable memory in which no page is ever writable and executable at once. One memfd backs two
/// views at different addresses: code and data are written through the read-write view and executed through the
/// read-execute view, and both see the same bytes because they map the same pages. Both views are reserved in full at
/// creation (no access) and committed in <see cref="CommitChunk"/> steps as allocations grow; an allocation past the
/// capacity throws <see cref="ExecutableMemoryFullException"/>.
/// <para>
/// The executable view is placed within the reach of the CPU's direct branch (<see cref="HostCpu.DirectReach"/>: ±2 GiB
/// for x86-64's <c>rel32</c>, ±128 MiB for arm64's <c>B</c>) of an anchor mapping — by default libc, next to which the
/// dynamic loader maps the modules — by reading <c>/proc/self/maps</c> for a free gap and claiming it with
/// <c>MAP_FIXED_NOREPLACE</c>. What must be in reach is the view's first <see cref="NearBytes"/> (slots are carved from
/// the start): all of it when it fits in half the reach, as it always does on x86-64. When no gap fits it goes
/// anywhere; <see cref="IsNearAnchor"/> says which happened.
/// </para>
/// </summary>
public sealed unsafe class ExecutableMemory : IDisposable
{
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
        Cpu = HostCpu.RequireCurrent();
        _fd = fd;
        WritableBase = writable;
        ExecutableBase = executable;
        Capacity = capacity;
        Anchor = anchor;
        IsNearAnchor = nearAnchor;
        Placement = placement;
    }

    /// <summary>The CPU whose code the memory holds.</summary>
    public HostCpu Cpu { get; }

    /// <summary>How many bytes from the executable view's start must be within the CPU's direct reach of the anchor.</summary>
    public static ulong NearBytes(HostCpu cpu, ulong capacity) => Math.Min(capacity, cpu.DirectReach / 2);

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

    /// <summary>True when every byte of the executable view's first <see cref="NearBytes"/> is within <see cref="HostCpu.DirectReach"/> of every byte of the anchor.</summary>
    public bool IsNearAnchor { get; }

    /// <summary>Where the executable view went and why, in words (for logs and reports).</summary>
    public string Placement { get; }

    /// <summary>
    /// Reserves <paramref name="capacity"/> bytes (rounded up to <see cref="CommitChunk"/>) in both views, the executable
    /// one near the mappings whose path contains <paramref name="anchor"/> when the address space allows it.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not linux-x64 or linux-arm64.</exception>
    /// <exception cref="HcrException">The kernel refused the memfd or a mapping.</exception>
    public static ExecutableMemory Reserve(ulong capacity, string? anchor = DefaultAnchor)
    {
        var cpu = HostCpu.RequireCurrent();
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
            var (exec, anchorExtent, near, placement) = ReserveExecutableView(cpu, capacity, anchor);
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

    /// <summary>
    /// Instructions at [<paramref name="executableAddress"/>, +<paramref name="length"/>) were changed through the
    /// writable view: on a CPU that needs it, the cache maintenance (and qemu-user's re-map) that makes every thread run
    /// the new ones. Call before the change is published to other threads; a change of data (a literal) needs none.
    /// </summary>
    public void InstructionsWritten(nint executableAddress, int length)
    {
        if (Cpu.NeedsCacheMaintenance && length > 0)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)(executableAddress - ExecutableBase) + (ulong)length, Used, nameof(length));
            CodeCache.Written(ExecutableBase, _fd, executableAddress, length);
        }
    }

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

    private static (nint Address, MemoryMapping? Anchor, bool Near, string Placement) ReserveExecutableView(HostCpu cpu, ulong capacity, string? anchorName)
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
        ulong reach = cpu.DirectReach;

        // The first NearBytes in reach: the view starts at most `reach` below the anchor's end, and its first NearBytes
        // end at most `reach` above the anchor's start (the rest of the view may lie beyond).
        ulong low = anchor.End > reach + page * 16 ? anchor.End - reach : page * 16;
        ulong high = anchor.Start + reach + (capacity - NearBytes(cpu, capacity));
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
                return (address, anchor, true, $"within {cpu.Slots.DirectForm} reach of {anchor.Path} (0x{anchor.Start:x}-0x{anchor.End:x})");
            }

            // Taken since /proc/self/maps was read (EEXIST), or a pre-4.17 kernel took the flag as a hint: try the next gap.
            if (address != Native.MapFailed)
            {
                Native.Munmap(address, (nuint)capacity);
            }
        }

        return (ReserveAnywhere(capacity), anchor, false,
            $"anywhere (no free {capacity}-byte gap within {cpu.Slots.DirectForm} reach of {anchor.Path} after {attempts} attempts)");
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
