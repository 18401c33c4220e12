using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HcrLab.Encoders;

namespace HcrLab.Runtime;

/// <summary>
/// The jump table: fixed-size slots in <see cref="ExecutableMemory"/>, written with the shared amd64 encoder, in one of
/// two forms (<see cref="SlotForm"/>). <see cref="SlotForm.Indirect"/> slots are the encoder's <see cref="PatchMode.Data"/>
/// form laid out from <see cref="CpuFacts.TableSlot"/> (<c>jmp [rip+disp32]</c> and an aligned literal), and a re-point is
/// one aligned 8-byte store of the literal. <see cref="SlotForm.Direct"/> slots (the default) start with the encoder's
/// <c>rel32</c> form placed so that its displacement is 4-byte aligned, followed by an indirect tail for targets out of
/// reach: a re-point is one aligned 4-byte store of the displacement (the opcode byte never changes, so a thread
/// executing the slot fetches either the old or the new displacement, the same rule JIT compilers rely on to patch call
/// sites while other threads run), preceded by a store of the tail's literal when the target is out of reach.
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

    /// <summary>
    /// A direct slot: int3 padding, <c>E9 rel32</c> at +3 (the entry; the displacement at +4 is 4-byte aligned), padding,
    /// and at +16 the encoder's data form (<c>jmp [rip+2]</c>, padding, the literal at +24) as the tail for targets out
    /// of the displacement's reach. 32 bytes at 32-byte alignment: never across a cache line.
    /// </summary>
    private const int DirectSlotSize = 32;

    private const int DirectEntryOffset = 3;
    private const int DirectTailOffset = 16;

    private readonly IJumpEncoder _encoder = JumpEncoders.For(InstructionSet.Amd64);
    private readonly JumpForm _rel32;
    private readonly Lock _lock = new();
    private readonly List<SlotState> _slots = [];
    private readonly Queue<int> _free = new();
    private GCHandle _self;
    private long _badCallCount;
    private BadCall? _lastBadCall;
    private int _inUse;
    private bool _disposed;

    /// <summary>Reserves room for <paramref name="capacity"/> slots (and their bad-call thunks).</summary>
    /// <param name="capacity">The most slots that can be in use at once.</param>
    /// <param name="anchor">Mappings to place the table near (see <see cref="ExecutableMemory.Reserve"/>), or null for anywhere.</param>
    /// <param name="form">What the slots hold.</param>
    public JumpTable(int capacity, string? anchor = ExecutableMemory.DefaultAnchor, SlotForm form = SlotForm.Direct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Form = form;
        _rel32 = _encoder.Forms.Single(f => f.Name == "rel32");
        Layout = form == SlotForm.Direct ? new SlotLayout(DirectSlotSize, DirectSlotSize) : _encoder.Facts.TableSlot;
        Capacity = capacity;

        // Worst case every slot has a thunk, and each allocation wastes up to its alignment.
        ulong perSlot = (ulong)(Layout.Size + Layout.Alignment + ThunkSize + ThunkAlignment);
        Memory = ExecutableMemory.Reserve((ulong)capacity * perSlot, anchor);
        _self = GCHandle.Alloc(this, GCHandleType.Normal);
    }

    /// <summary>The encoder every slot and thunk jump is written with (amd64).</summary>
    public IJumpEncoder Encoder => _encoder;

    /// <summary>What the slots hold.</summary>
    public SlotForm Form { get; }

    /// <summary>Slot size and alignment: the encoder's <see cref="CpuFacts.TableSlot"/> for indirect slots, 32 bytes for direct ones.</summary>
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
    public JumpSlot Allocate(nint target)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            SlotState state;
            if (_free.TryDequeue(out int index))
            {
                state = _slots[index];
                state.InUse = true;
                Store(state, target);
            }
            else
            {
                if (_slots.Count >= Capacity)
                {
                    throw new JumpTableFullException(Capacity);
                }

                state = CarveSlot(target);
            }

            _inUse++;
            return state.Slot;
        }
    }

    /// <summary>Makes <paramref name="slot"/> jump to <paramref name="target"/>: one atomic store, no lock.</summary>
    public void Repoint(JumpSlot slot, nint target)
    {
        var state = StateOf(slot);
        if (!state.InUse)
        {
            throw new InvalidOperationException($"{slot} is released; allocate a slot before pointing it anywhere");
        }

        Store(state, target);
    }

    /// <summary>Where a call through <paramref name="slot"/> goes now (a bad-call thunk for a released slot).</summary>
    public nint TargetOf(JumpSlot slot)
    {
        var state = StateOf(slot);
        nint literal = (nint)Volatile.Read(ref *(ulong*)(Memory.ExecutableAddress(state.Offset) + state.LiteralOffset));
        if (Form == SlotForm.Indirect)
        {
            return literal;
        }

        int displacement = Volatile.Read(ref *(int*)(state.Slot.Address + 1));
        return displacement == state.TailDisplacement ? literal : state.Slot.Address + _rel32.PcBias + displacement;
    }

    /// <summary>True when <paramref name="slot"/> is released and routes its callers to the bad-call report.</summary>
    public bool IsReleased(JumpSlot slot) => !StateOf(slot).InUse;

    /// <summary>
    /// Releases <paramref name="slot"/>, whose proc <paramref name="name"/> of <paramref name="module"/> was removed: it
    /// jumps to its bad-call thunk from now on, and joins the free list.
    /// </summary>
    public void Release(JumpSlot slot, string module, string name)
    {
        lock (_lock)
        {
            var state = StateOf(slot);
            if (!state.InUse)
            {
                throw new InvalidOperationException($"{slot} is already released");
            }

            state.RemovedProc = (module, name);
            if (state.ThunkOffset == ulong.MaxValue)
            {
                state.ThunkOffset = CarveThunk(state.Slot.Index);
            }

            Store(state, Memory.ExecutableAddress(state.ThunkOffset));
            state.InUse = false;
            _free.Enqueue(state.Slot.Index);
            _inUse--;
        }
    }

    /// <summary>The bad-call thunk of <paramref name="slot"/>, or 0 when the slot was never released.</summary>
    public nint BadCallThunkOf(JumpSlot slot)
    {
        var state = StateOf(slot);
        return state.ThunkOffset == ulong.MaxValue ? 0 : Memory.ExecutableAddress(state.ThunkOffset);
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

    private SlotState CarveSlot(nint target)
    {
        ulong offset = Allocate(Layout.Size, Layout.Alignment);
        nint address = Memory.ExecutableAddress(offset);
        var bytes = Memory.Writable(offset, Layout.Size);
        bytes.Fill(_encoder.Facts.PaddingPattern[0]);
        int tail = Form == SlotForm.Direct ? DirectTailOffset : 0;
        var indirect = _encoder.Plan((ulong)(address + tail), (ulong)target, PatchMode.Data);
        if (tail + indirect.Size > Layout.Size || indirect.LiteralOffset < 0 || (address + tail + indirect.LiteralOffset) % 8 != 0)
        {
            throw new InvalidOperationException($"the encoder planned {indirect} at +{tail} of a {Layout.Size}-byte slot; the jump table needs an aligned literal inside the slot");
        }

        _encoder.Encode(indirect, bytes[tail..]);
        if (Form == SlotForm.Indirect)
        {
            var indirectSlot = new SlotState(new JumpSlot(_slots.Count, address), offset, indirect.LiteralOffset) { InUse = true };
            _slots.Add(indirectSlot);
            return indirectSlot;
        }

        // The entry jumps to the tail (which already jumps to the target) until Store points it at the target directly.
        nint entry = address + DirectEntryOffset;
        _encoder.Encode(_encoder.Plan(_rel32, (ulong)entry, (ulong)(address + tail), PatchMode.Code), bytes[DirectEntryOffset..]);
        var state = new SlotState(new JumpSlot(_slots.Count, entry), offset, tail + indirect.LiteralOffset)
        {
            InUse = true,
            TailDisplacement = (int)_encoder.Displacement(_rel32, (ulong)entry, (ulong)(address + tail)),
        };
        Store(state, target);
        _slots.Add(state);
        return state;
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

    /// <summary>Points a slot at <paramref name="target"/> with one atomic store a caller can see (two for a direct slot's far target, the literal first).</summary>
    private void Store(SlotState state, nint target)
    {
        nint writable = Memory.WritableAddress(state.Offset);
        if (Form == SlotForm.Indirect)
        {
            Volatile.Write(ref *(ulong*)(writable + state.LiteralOffset), (ulong)target);
            return;
        }

        ref int displacement = ref *(int*)(writable + DirectEntryOffset + 1);
        if (_encoder.TryPlan(_rel32, (ulong)state.Slot.Address, (ulong)target, PatchMode.Code, out _, out _))
        {
            Volatile.Write(ref displacement, (int)_encoder.Displacement(_rel32, (ulong)state.Slot.Address, (ulong)target));
        }
        else
        {
            Volatile.Write(ref *(ulong*)(writable + state.LiteralOffset), (ulong)target);
            Volatile.Write(ref displacement, state.TailDisplacement);
        }
    }

    private SlotState StateOf(JumpSlot slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SlotState state;
        lock (_lock)
        {
            if ((uint)slot.Index >= (uint)_slots.Count)
            {
                throw new ArgumentException($"{slot} does not belong to this table", nameof(slot));
            }

            state = _slots[slot.Index];
        }

        if (state.Slot.Address != slot.Address)
        {
            throw new ArgumentException($"{slot} does not belong to this table", nameof(slot));
        }

        return state;
    }

    private void ReportBadCall(int slotIndex)
    {
        SlotState state;
        lock (_lock)
        {
            state = _slots[slotIndex];
        }

        var (module, name) = state.RemovedProc ?? ("?", "?");
        long count = Interlocked.Increment(ref _badCallCount);
        var call = new BadCall(module, name, state.Slot, count);
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

    private sealed class SlotState(JumpSlot slot, ulong offset, int literalOffset)
    {
        public JumpSlot Slot { get; } = slot;

        public ulong Offset { get; } = offset;

        /// <summary>Offset of the indirect form's literal from the slot's start (the tail's, in a direct slot).</summary>
        public int LiteralOffset { get; } = literalOffset;

        /// <summary>A direct slot's displacement that sends its entry to its tail.</summary>
        public int TailDisplacement { get; init; }

        public bool InUse { get; set; }

        public ulong ThunkOffset { get; set; } = ulong.MaxValue;

        public (string Module, string Name)? RemovedProc { get; set; }
    }
}
