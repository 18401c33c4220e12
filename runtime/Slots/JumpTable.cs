using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HcrLab.Encoders;

namespace HcrLab.Runtime;

/// <summary>
/// The jump table: fixed-size slots in <see cref="ExecutableMemory"/>, written with the shared encoder of the process's
/// CPU (<see cref="HostCpu"/>: what differs by CPU is data there), in one of two forms (<see cref="SlotForm"/>).
/// <see cref="SlotForm.Indirect"/> slots are the encoder's <see cref="PatchMode.Data"/> form laid out from
/// <see cref="CpuFacts.TableSlot"/> (<c>jmp [rip+disp32]</c> on x86-64, <c>ldr x16, literal; br x16</c> on arm64, and an
/// aligned literal), and a re-point is one aligned 8-byte store of the literal. <see cref="SlotForm.Direct"/> slots (the
/// default) start with the CPU's direct branch (<see cref="SlotGeometry"/>), followed by an indirect tail for targets out
/// of reach: a re-point is the one aligned store the encoders' <see cref="SlotWriter"/> plans — x86-64's 4-byte
/// displacement (the opcode byte never changes, the rule JIT compilers rely on to patch call sites while other threads
/// run), arm64's whole <c>B</c> instruction (which the architecture allows to change while other cores execute it) —
/// preceded by a store of the tail's literal when the target is out of reach. Changed instructions get the CPU's cache
/// maintenance over exactly the stored range before anything else happens (<see cref="ExecutableMemory.InstructionsWritten"/>).
/// <para>
/// A released slot (its proc was removed) is pointed at a small thunk of its own that calls
/// <see cref="BadCallOccurred"/>'s machinery with the slot's index: the call is counted, reported with the removed
/// proc's module and name (one line on standard error and an event) and returns 0 to the caller — never a jump into an
/// unloaded library.
/// </para>
/// <para>
/// A released slot stays a bad-call thunk for as long as possible, because anything may still hold its address (a
/// callback stored in a global, a host's cached pointer) and a reused slot would run another proc with the wrong
/// arguments. <see cref="Allocate(nint, string, string)"/> therefore takes, in this order: the slot the same module and
/// name had, when that proc comes back (stale addresses work again); a never-used slot; and only when neither is left,
/// the oldest released slot whose release every registered thread (<see cref="HcrThread"/>) has reported a quiescent
/// state after, which is then reported (<see cref="SlotReused"/>). When the table is full and the oldest released slot
/// still waits for a thread, <see cref="JumpTableFullException"/> names that thread.
/// </para>
/// </summary>
public sealed unsafe class JumpTable : IDisposable
{
    private readonly HostCpu _cpu = HostCpu.RequireCurrent();
    private readonly IJumpEncoder _encoder;

    /// <summary>A direct slot's entry: the CPU's direct branch.</summary>
    private readonly JumpForm _direct;

    /// <summary>An indirect slot, and a direct slot's tail: the CPU's literal form.</summary>
    private readonly JumpForm _indirect;

    /// <summary>Where a slot's entry is from its start: 0 for an indirect slot, the geometry's for a direct one.</summary>
    private readonly int _entryOffset;

    /// <summary>Where a slot's literal form starts: 0 for an indirect slot, the tail of a direct one.</summary>
    private readonly int _tailOffset;
    private readonly Lock _lock = new();
    // Every slot carved so far, by index, as records in fixed-size chunks: no object per slot (a proc's registration
    // allocated one, and every one of them survived to be copied by two collections), and a chunk is never copied, so a
    // re-point (the hot path of a re-registration) reads its slot's record without the lock while Allocate and Release
    // write the same record under it. Only the chunk directory is replaced, whole, when it grows.
    private const int ChunkBits = 12;
    private const int ChunkMask = (1 << ChunkBits) - 1;
    private SlotRecord[][] _chunks = [];
    private int _slotCount;

    // Which proc a released slot belonged to, for its bad-call report and for that proc's return; under _lock.
    private readonly Dictionary<int, (string Module, string Name)> _removedProcs = [];
    private readonly Dictionary<(string Module, string Name), int> _releasedByName = [];

    // Released slots in release order, with the retention epoch at their release; a slot taken back by its proc's name
    // is taken out of the middle. Under _lock.
    private readonly LinkedList<(int Index, long Epoch)> _free = new();
    private readonly Dictionary<int, LinkedListNode<(int Index, long Epoch)>> _freeNodes = [];
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
        _encoder = _cpu.Encoder;
        var geometry = _cpu.Slots;
        _direct = _encoder.Form(geometry.DirectForm);
        _indirect = _encoder.Form(geometry.IndirectForm);
        Layout = form == SlotForm.Direct ? new SlotLayout(geometry.DirectSize, geometry.DirectSize) : _encoder.Facts.TableSlot;
        _entryOffset = form == SlotForm.Direct ? geometry.EntryOffset : 0;
        _tailOffset = form == SlotForm.Direct ? geometry.TailOffset : 0;
        Capacity = capacity;

        // Worst case every slot has a thunk, and each allocation wastes up to its alignment.
        var thunk = _cpu.BadCallThunk;
        ulong perSlot = (ulong)(Layout.Size + Layout.Alignment + thunk.Size + thunk.Alignment);
        Memory = ExecutableMemory.Reserve((ulong)capacity * perSlot, anchor);
        _self = GCHandle.Alloc(this, GCHandleType.Normal);
    }

    /// <summary>The encoder every slot and thunk jump is written with (the process's CPU's).</summary>
    public IJumpEncoder Encoder => _encoder;

    /// <summary>What the slots hold.</summary>
    public SlotForm Form { get; }

    /// <summary>Slot size and alignment: the encoder's <see cref="CpuFacts.TableSlot"/> for indirect slots, <see cref="SlotGeometry.DirectSize"/> for direct ones.</summary>
    public SlotLayout Layout { get; }

    /// <summary>How many slots the table holds.</summary>
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

    /// <summary>The memory that holds the slots, executable through one view and written through the other.</summary>
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

    /// <summary>
    /// Raised (on the allocating thread, under the table's lock) when a released slot is handed to another proc: from now
    /// on its old address runs that proc. The runtime turns it into a diagnostic.
    /// </summary>
    public event EventHandler<SlotReusedEventArgs>? SlotReused;

    /// <summary>
    /// The threads whose quiescent states decide when a released slot may be reused; null (a table of its own, no
    /// threads) means at once when nothing else is left. The runtime sets its <see cref="ImageRetention"/>.
    /// </summary>
    internal ImageRetention? Quiescence { get; set; }

    /// <summary>A slot for a proc with no name to come back under: a never-used one first (see the class remarks).</summary>
    /// <exception cref="JumpTableFullException">No never-used slot is left, and no released one may be reused yet.</exception>
    public JumpSlot Allocate(nint target) => Allocate(target, null, null);

    /// <summary>
    /// A slot that jumps to <paramref name="target"/> for proc <paramref name="name"/> of <paramref name="module"/>: the
    /// slot that proc had when it was released, else a never-used slot, else the oldest released slot every registered
    /// thread has reported a quiescent state since the release of (reported through <see cref="SlotReused"/>).
    /// </summary>
    /// <exception cref="JumpTableFullException">
    /// No never-used slot is left, and no released slot may be reused: none was released, or a registered thread has not
    /// reported a quiescent state since the oldest was.
    /// </exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public JumpSlot Allocate(nint target, string? module, string? name)
    {
        SlotReusedEventArgs? reused = null;
        JumpSlot slot;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int index;
            if (module is not null && name is not null && _releasedByName.TryGetValue((module, name), out int own))
            {
                index = own;
                TakeFree(index);
            }
            else if (_slotCount < Capacity)
            {
                index = CarveSlot(target);
            }
            else
            {
                (index, var removed) = TakeOldestQuiescent();
                reused = new SlotReusedEventArgs(new JumpSlot(index, EntryOf(in Record(index))), removed.Module, removed.Name, module, name);
            }

            ref var record = ref Record(index);
            if (!record.InUse)
            {
                record.InUse = true;
                Store(ref record, target);
            }

            _inUse++;
            slot = new JumpSlot(index, EntryOf(in record));
            if (reused is not null)
            {
                SlotReused?.Invoke(this, reused);
            }
        }

        return slot;
    }

    /// <summary>Takes a released slot off the free list and forgets which proc it belonged to.</summary>
    private void TakeFree(int index)
    {
        _free.Remove(_freeNodes[index]);
        _freeNodes.Remove(index);
        if (_removedProcs.Remove(index, out var removed))
        {
            _releasedByName.Remove(removed);
        }
    }

    /// <summary>The oldest released slot, once every registered thread has reported a quiescent state since its release.</summary>
    private (int Index, (string Module, string Name) Removed) TakeOldestQuiescent()
    {
        if (_free.First is not { } oldest)
        {
            throw new JumpTableFullException(Capacity);
        }

        // Epochs only grow along the list: if the oldest must wait, every later one must too.
        if (Quiescence is { } quiescence && quiescence.LaggingSince(oldest.Value.Epoch) is { Count: > 0 } lagging)
        {
            throw new JumpTableFullException(Capacity, _free.Count, lagging);
        }

        int index = oldest.Value.Index;
        var removed = _removedProcs[index];
        TakeFree(index);
        return (index, removed);
    }

    /// <summary>
    /// Makes <paramref name="slot"/> jump to <paramref name="target"/>: one atomic store, no lock; nothing when it jumps there
    /// already. Re-points of one slot must not race each other (the runtime makes them under its lock).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Repoint(JumpSlot slot, nint target)
    {
        ref var record = ref RecordOf(slot);
        if (!record.InUse)
        {
            throw new InvalidOperationException($"{slot} is released; allocate a slot before pointing it anywhere");
        }

        // Re-registering an unchanged module points its slots where they already go: nothing to store.
        if (record.Target != target)
        {
            Store(ref record, target);
        }
    }

    /// <summary>Where a call through <paramref name="slot"/> goes now (a bad-call thunk for a released slot).</summary>
    public nint TargetOf(JumpSlot slot)
    {
        ref var record = ref RecordOf(slot);
        nint literal = (nint)Volatile.Read(ref *(ulong*)(Memory.ExecutableAddress(record.Offset) + record.LiteralOffset));
        if (Form == SlotForm.Indirect)
        {
            return literal;
        }

        nint entryTarget = Volatile.Read(ref record.EntryTarget);
        return entryTarget == Memory.ExecutableAddress(record.Offset) + _tailOffset ? literal : entryTarget;
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
            _releasedByName[(module, name)] = slot.Index;
            if (record.ThunkOffset == 0)
            {
                record.ThunkOffset = CarveThunk(slot.Index) + 1;
            }

            Store(ref record, Memory.ExecutableAddress(record.ThunkOffset - 1));
            record.InUse = false;
            _freeNodes[slot.Index] = _free.AddLast((slot.Index, Quiescence?.Epoch ?? 0));
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
        int tail = _tailOffset;
        var indirect = _encoder.Plan(_indirect, (ulong)(address + tail), (ulong)target, PatchMode.Data);
        if (tail + indirect.Size > Layout.Size || indirect.LiteralOffset < 0 || (address + tail + indirect.LiteralOffset) % 8 != 0)
        {
            throw new InvalidOperationException($"the encoder planned {indirect} at +{tail} of a {Layout.Size}-byte slot; the jump table needs an aligned literal inside the slot");
        }

        var bytes = Memory.Writable(offset, Layout.Size);
        bytes.Fill(_encoder.Facts.PaddingPattern[0]);
        SlotWriter.FirstWrite(_encoder, indirect).ApplyTo(bytes, (ulong)address);
        if (Form == SlotForm.Direct)
        {
            // The entry jumps to the tail (which already jumps to the target) until Store points it at the target directly.
            nint entry = address + _entryOffset;
            SlotWriter.FirstWrite(_encoder, _encoder.Plan(_direct, (ulong)entry, (ulong)(address + tail), PatchMode.Code)).ApplyTo(bytes, (ulong)address);
        }

        // Before the slot's address is handed out (the caller publishes it): a slot carved in a page other threads run.
        Memory.InstructionsWritten(address, Layout.Size);

        int index = _slotCount;
        if ((index >> ChunkBits) == _chunks.Length)
        {
            Volatile.Write(ref _chunks, [.. _chunks, new SlotRecord[1 << ChunkBits]]);
        }

        ref var record = ref Record(index);
        (record.Offset, record.LiteralOffset, record.EntryTarget) = (offset, tail + indirect.LiteralOffset, address + tail);
        Volatile.Write(ref _slotCount, index + 1);
        return index;
    }

    /// <summary>
    /// A bad-call thunk for <paramref name="slotIndex"/> from the CPU's template: the C arguments of
    /// <see cref="OnBadCall"/> (the table's handle, the slot's index) loaded, then the encoder's data-form jump to it.
    /// </summary>
    private ulong CarveThunk(int slotIndex)
    {
        var template = _cpu.BadCallThunk;
        ulong offset = Allocate(template.Size, template.Alignment);
        nint address = Memory.ExecutableAddress(offset);
        var bytes = Memory.Writable(offset, template.Size);
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = _encoder.Facts.PaddingPattern[i % _encoder.Facts.PaddingPattern.Length];
        }

        template.Code.CopyTo(bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[template.HandleOffset..], GCHandle.ToIntPtr(_self));
        BinaryPrimitives.WriteInt32LittleEndian(bytes[template.IndexOffset..], slotIndex);

        delegate* unmanaged<nint, int, nint> handler = &OnBadCall;
        var jump = _encoder.Plan(_indirect, (ulong)(address + template.JumpOffset), (ulong)handler, PatchMode.Data);
        static bool Apart(int at, int length, int other, int otherLength) => at + length <= other || other + otherLength <= at;
        int jumpAt = template.JumpOffset;
        if (jumpAt + jump.Size > template.Size || !Apart(jumpAt, jump.Size, template.HandleOffset, 8) || !Apart(jumpAt, jump.Size, template.IndexOffset, 4))
        {
            throw new InvalidOperationException($"the encoder planned {jump} at +{template.JumpOffset}, which does not fit the {template.Size}-byte bad-call thunk beside its arguments");
        }

        _encoder.Encode(jump, bytes[template.JumpOffset..]);
        Memory.InstructionsWritten(address, template.Size);
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

    /// <summary>
    /// Points a slot at <paramref name="target"/> with the encoders' stores (<see cref="SlotWriter"/>): one aligned atomic
    /// store a caller sees whole — the literal of an indirect slot, the displacement of a direct one — or, for a direct
    /// slot's far target, the tail's literal and then the displacement that sends the entry to the tail.
    /// </summary>
    private void Store(ref SlotRecord record, nint target)
    {
        record.Target = target;
        nint slot = Memory.ExecutableAddress(record.Offset);
        byte* writable = (byte*)Memory.WritableAddress(record.Offset);
        int tail = _tailOffset;
        ulong literalAt = (ulong)slot + (ulong)record.LiteralOffset;
        ulong literal = Volatile.Read(ref *(ulong*)literalAt);
        JumpPlan Indirect(ulong to) => _encoder.Plan(_indirect, (ulong)(slot + tail), to, PatchMode.Data);
        if (Form == SlotForm.Indirect)
        {
            Perform(SlotWriter.Repoint(_encoder, Indirect(literal), Indirect((ulong)target)), slot, writable);
            return;
        }

        ulong entry = (ulong)EntryOf(in record);
        JumpPlan Entry(ulong to) => _encoder.Plan(_direct, entry, to, PatchMode.Code);
        ulong to = (ulong)target;
        if (!_encoder.TryPlan(_direct, entry, to, PatchMode.Code, out _, out _))
        {
            Perform(SlotWriter.Repoint(_encoder, Indirect(literal), Indirect(to)), slot, writable);
            to = (ulong)(slot + tail);
        }

        Perform(SlotWriter.Repoint(_encoder, Entry((ulong)record.EntryTarget), Entry(to)), slot, writable);
        Volatile.Write(ref record.EntryTarget, (nint)to);
    }

    /// <summary>
    /// Performs <paramref name="writes"/> through the writable alias of the slot at <paramref name="slot"/>; when they
    /// change instructions, the CPU's cache maintenance over exactly the stored range follows (nothing on x86-64).
    /// </summary>
    private void Perform(SlotWrites writes, nint slot, byte* writable)
    {
        if (!writes.WhileCallersRun && writes.Stores.Count > 0)
        {
            throw new InvalidOperationException($"the jump table only re-points slots with stores that are safe while callers run; the encoders planned {writes}");
        }

        writes.Perform(writable + (long)(writes.Slot - (ulong)slot));
        if (writes.ChangesInstructions)
        {
            ulong first = writes.Stores.Min(s => s.Address), end = writes.Stores.Max(s => s.End);
            Memory.InstructionsWritten((nint)first, (int)(end - first));
        }
    }

    /// <summary>The address callers call: the slot's start for an indirect slot, its direct branch for a direct one.</summary>
    private nint EntryOf(in SlotRecord record) => Memory.ExecutableAddress(record.Offset) + _entryOffset;

    private ref SlotRecord Record(int index) => ref Volatile.Read(ref _chunks)[index >> ChunkBits][index & ChunkMask];

    private ref SlotRecord RecordOf(JumpSlot slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)slot.Index >= (uint)Volatile.Read(ref _slotCount) || EntryOf(in Record(slot.Index)) != slot.Address)
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
            slot = new JumpSlot(slotIndex, EntryOf(in Record(slotIndex)));
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

    /// <summary>
    /// What a bad-call thunk calls. Like the C ABI entry points it disarms a guarded call it runs inside (module code,
    /// or <see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/> of a removed proc's slot): the subscribers are the
    /// host's .NET code, whose frames a contained fault must never be jumped over.
    /// </summary>
    [UnmanagedCallersOnly]
    private static nint OnBadCall(nint table, int slotIndex)
    {
        using var callback = FaultGuard.EnterCallback();
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

        /// <summary>Where the slot jumps now, as <see cref="Store"/> last pointed it.</summary>
        public nint Target;

        /// <summary>Where a direct slot's entry branches now: <see cref="Target"/>, or the slot's tail for a target out of reach.</summary>
        public nint EntryTarget;
        public int LiteralOffset;
        public bool InUse;
    }
}
