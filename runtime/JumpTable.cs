using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HcrLab.Encoders;

namespace HcrLab.Runtime;

/// <summary>
/// The jump table: fixed-size slots in <see cref="ExecutableMemory"/>, laid out from the amd64
/// <see cref="CpuFacts.TableSlot"/>. Each slot is encoded once, in <see cref="PatchMode.Data"/> by the shared amd64
/// encoder (<c>jmp [rip+disp32]</c> and an aligned 8-byte literal), and from then on only its literal changes: a
/// re-point is one aligned atomic 8-byte store through the writable view, so a thread calling through the slot at that
/// moment reaches the old target or the new one, and no instruction byte ever changes under it.
/// <para>
/// A released slot (its proc was removed) is pointed at a small thunk of its own that calls
/// <see cref="BadCallOccurred"/>'s machinery with the slot's index: the call is counted, reported with the removed
/// proc's module and name (one line on standard error and an event) and returns 0 to the caller — never a jump into an
/// unloaded library. Released slots are reused, oldest first, by later allocations.
/// </para>
/// </summary>
public sealed unsafe class JumpTable : IDisposable
{
    /// <summary>
    /// A bad-call thunk: <c>mov rdi, imm64</c> (the table's handle, 10 bytes), <c>mov esi, imm32</c> (the slot index,
    /// 5 bytes), then at +15 the encoder's data-form jump to the handler (6 bytes of instruction, padding, the literal
    /// aligned at +24): 32 bytes.
    /// </summary>
    private const int ThunkSize = 32;

    private const int ThunkAlignment = 16;
    private const int ThunkJumpOffset = 15;

    private readonly IJumpEncoder _encoder = JumpEncoders.For(InstructionSet.Amd64);
    private readonly Lock _lock = new();
    // Every slot carved so far, by index, as records in fixed-size chunks: no object per slot (a proc's registration
    // allocated one, and every one of them survived to be copied by two collections), and a chunk is never copied, so a
    // re-point (the hot path of a re-registration) reads its slot's record without the lock while Allocate and Release
    // write the same record under it. Only the chunk directory is replaced, whole, when it grows.
    private const int ChunkBits = 12;
    private const int ChunkMask = (1 << ChunkBits) - 1;
    private SlotRecord[][] _chunks = [];
    private int _slotCount;

    // Which proc a released slot belonged to, for its bad-call report; under _lock.
    private readonly Dictionary<int, (string Module, string Name)> _removedProcs = [];
    private readonly Queue<int> _free = new();
    private GCHandle _self;
    private long _badCallCount;
    private BadCall? _lastBadCall;
    private int _inUse;
    private bool _disposed;

    /// <summary>Reserves room for <paramref name="capacity"/> slots (and their bad-call thunks).</summary>
    /// <param name="capacity">The most slots that can be in use at once.</param>
    /// <param name="anchor">Mappings to place the table near (see <see cref="ExecutableMemory.Reserve"/>), or null for anywhere.</param>
    public JumpTable(int capacity, string? anchor = ExecutableMemory.DefaultAnchor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Layout = _encoder.Facts.TableSlot;
        Capacity = capacity;

        // Worst case every slot has a thunk, and each allocation wastes up to its alignment.
        ulong perSlot = (ulong)(Layout.Size + Layout.Alignment + ThunkSize + ThunkAlignment);
        Memory = ExecutableMemory.Reserve((ulong)capacity * perSlot, anchor);
        _self = GCHandle.Alloc(this, GCHandleType.Normal);
    }

    /// <summary>The encoder every slot and thunk jump is written with (amd64).</summary>
    public IJumpEncoder Encoder => _encoder;

    /// <summary>Slot size and alignment, from the encoder's CPU facts.</summary>
    public SlotLayout Layout { get; }

    public int Capacity { get; }

    /// <summary>Slots allocated and not released.</summary>
    public int InUse => Volatile.Read(ref _inUse);

    /// <summary>Released slots waiting to be reused.</summary>
    public int FreeSlots
    {
        get
        {
            lock (_lock)
            {
                return _free.Count;
            }
        }
    }

    public ExecutableMemory Memory { get; }

    /// <summary>Calls through released slots so far.</summary>
    public long BadCallCount => Interlocked.Read(ref _badCallCount);

    /// <summary>The most recent bad call, or null.</summary>
    public BadCall? LastBadCall => Volatile.Read(ref _lastBadCall);

    /// <summary>When true (the default) each bad call also writes one line to standard error.</summary>
    public bool ReportBadCallsToStandardError { get; set; } = true;

    /// <summary>
    /// Raised on the calling thread (which may be a native thread) for each bad call, before it returns 0. Exceptions
    /// thrown by handlers are swallowed: they cannot unwind through native frames.
    /// </summary>
    public event EventHandler<BadCallEventArgs>? BadCallOccurred;

    /// <summary>A slot that jumps to <paramref name="target"/>: a released one when any is free, else a new one.</summary>
    /// <exception cref="JumpTableFullException">All <see cref="Capacity"/> slots are in use.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public JumpSlot Allocate(nint target)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_free.TryDequeue(out int index))
            {
                if (_slotCount >= Capacity)
                {
                    throw new JumpTableFullException(Capacity);
                }

                index = CarveSlot(target);
            }

            ref var record = ref Record(index);
            if (!record.InUse)
            {
                record.InUse = true;
                StoreLiteral(ref record, target);
            }

            _inUse++;
            return new JumpSlot(index, Memory.ExecutableAddress(record.Offset));
        }
    }

    /// <summary>Makes <paramref name="slot"/> jump to <paramref name="target"/>: one atomic store, no lock.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Repoint(JumpSlot slot, nint target)
    {
        ref var record = ref RecordOf(slot);
        if (!record.InUse)
        {
            throw new InvalidOperationException($"{slot} is released; allocate a slot before pointing it anywhere");
        }

        StoreLiteral(ref record, target);
    }

    /// <summary>Where a call through <paramref name="slot"/> goes now (a bad-call thunk for a released slot).</summary>
    public nint TargetOf(JumpSlot slot)
    {
        ref var record = ref RecordOf(slot);
        return (nint)Volatile.Read(ref *(ulong*)(Memory.ExecutableAddress(record.Offset) + record.LiteralOffset));
    }

    /// <summary>True when <paramref name="slot"/> is released and routes its callers to the bad-call report.</summary>
    public bool IsReleased(JumpSlot slot) => !RecordOf(slot).InUse;

    /// <summary>
    /// Releases <paramref name="slot"/>, whose proc <paramref name="name"/> of <paramref name="module"/> was removed: it
    /// jumps to its bad-call thunk from now on, and joins the free list.
    /// </summary>
    public void Release(JumpSlot slot, string module, string name)
    {
        lock (_lock)
        {
            ref var record = ref RecordOf(slot);
            if (!record.InUse)
            {
                throw new InvalidOperationException($"{slot} is already released");
            }

            _removedProcs[slot.Index] = (module, name);
            if (record.ThunkOffset == 0)
            {
                record.ThunkOffset = CarveThunk(slot.Index) + 1;
            }

            StoreLiteral(ref record, Memory.ExecutableAddress(record.ThunkOffset - 1));
            record.InUse = false;
            _free.Enqueue(slot.Index);
            _inUse--;
        }
    }

    /// <summary>The bad-call thunk of <paramref name="slot"/>, or 0 when the slot was never released.</summary>
    public nint BadCallThunkOf(JumpSlot slot)
    {
        ref var record = ref RecordOf(slot);
        return record.ThunkOffset == 0 ? 0 : Memory.ExecutableAddress(record.ThunkOffset - 1);
    }

    /// <summary>Unmaps the table. Calling through any of its slots afterwards faults.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Memory.Dispose();
            _self.Free();
        }
    }

    /// <summary>Carves and encodes a new slot jumping to <paramref name="target"/>; its record is left not in use.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private int CarveSlot(nint target)
    {
        ulong offset = Allocate(Layout.Size, Layout.Alignment);
        nint address = Memory.ExecutableAddress(offset);
        var plan = _encoder.Plan((ulong)address, (ulong)target, PatchMode.Data);
        if (plan.Size > Layout.Size || plan.LiteralOffset < 0 || (address + plan.LiteralOffset) % 8 != 0)
        {
            throw new InvalidOperationException($"the encoder planned {plan} for a {Layout.Size}-byte slot; the jump table needs an aligned literal inside the slot");
        }

        var bytes = Memory.Writable(offset, Layout.Size);
        bytes.Fill(_encoder.Facts.PaddingPattern[0]);
        _encoder.Encode(plan, bytes);
        int index = _slotCount;
        if ((index >> ChunkBits) == _chunks.Length)
        {
            Volatile.Write(ref _chunks, [.. _chunks, new SlotRecord[1 << ChunkBits]]);
        }

        ref var record = ref Record(index);
        (record.Offset, record.LiteralOffset) = (offset, plan.LiteralOffset);
        Volatile.Write(ref _slotCount, index + 1);
        return index;
    }

    private ulong CarveThunk(int slotIndex)
    {
        ulong offset = Allocate(ThunkSize, ThunkAlignment);
        nint address = Memory.ExecutableAddress(offset);
        var bytes = Memory.Writable(offset, ThunkSize);
        bytes.Fill(_encoder.Facts.PaddingPattern[0]);

        // The SysV arguments of OnBadCall: rdi = the table's handle, esi = the slot index (mov r32 zero-extends).
        bytes[0] = 0x48; // REX.W
        bytes[1] = 0xBF; // mov rdi, imm64
        BinaryPrimitives.WriteInt64LittleEndian(bytes[2..], GCHandle.ToIntPtr(_self));
        bytes[10] = 0xBE; // mov esi, imm32
        BinaryPrimitives.WriteInt32LittleEndian(bytes[11..], slotIndex);

        delegate* unmanaged<nint, int, nint> handler = &OnBadCall;
        var jump = _encoder.Plan((ulong)(address + ThunkJumpOffset), (ulong)handler, PatchMode.Data);
        if (ThunkJumpOffset + jump.Size > ThunkSize)
        {
            throw new InvalidOperationException($"the encoder planned {jump}, which does not fit a {ThunkSize}-byte bad-call thunk");
        }

        _encoder.Encode(jump, bytes[ThunkJumpOffset..]);
        return offset;
    }

    private ulong Allocate(int size, int alignment)
    {
        try
        {
            return Memory.Allocate(size, alignment);
        }
        catch (ExecutableMemoryFullException full)
        {
            throw new JumpTableFullException(Capacity, full);
        }
    }

    private void StoreLiteral(ref SlotRecord record, nint target) =>
        Volatile.Write(ref *(ulong*)(Memory.WritableAddress(record.Offset) + record.LiteralOffset), (ulong)target);

    private ref SlotRecord Record(int index) => ref Volatile.Read(ref _chunks)[index >> ChunkBits][index & ChunkMask];

    private ref SlotRecord RecordOf(JumpSlot slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)slot.Index >= (uint)Volatile.Read(ref _slotCount) || Memory.ExecutableAddress(Record(slot.Index).Offset) != slot.Address)
        {
            throw new ArgumentException($"{slot} does not belong to this table", nameof(slot));
        }

        return ref Record(slot.Index);
    }

    private void ReportBadCall(int slotIndex)
    {
        (string Module, string Name) removed;
        JumpSlot slot;
        lock (_lock)
        {
            removed = _removedProcs.GetValueOrDefault(slotIndex, ("?", "?"));
            slot = new JumpSlot(slotIndex, Memory.ExecutableAddress(Record(slotIndex).Offset));
        }

        var (module, name) = removed;
        long count = Interlocked.Increment(ref _badCallCount);
        var call = new BadCall(module, name, slot, count);
        Volatile.Write(ref _lastBadCall, call);
        if (ReportBadCallsToStandardError)
        {
            Console.Error.WriteLine(call.ToString());
        }

        try
        {
            BadCallOccurred?.Invoke(this, new BadCallEventArgs(call));
        }
        catch (Exception)
        {
            // A subscriber's exception cannot unwind through the native caller's frames.
        }
    }

    [UnmanagedCallersOnly]
    private static nint OnBadCall(nint table, int slotIndex)
    {
        try
        {
            (GCHandle.FromIntPtr(table).Target as JumpTable)?.ReportBadCall(slotIndex);
        }
        catch (Exception)
        {
            // Never unwind into native code: the bad call is still answered with 0.
        }

        return 0;
    }

    /// <summary>A slot's place, its literal, whether a proc owns it, and its bad-call thunk's place + 1 (0: none yet).</summary>
    private struct SlotRecord
    {
        public ulong Offset;
        public ulong ThunkOffset;
        public int LiteralOffset;
        public bool InUse;
    }
}
