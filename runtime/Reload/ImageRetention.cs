using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// Keeps what a reload replaced — old library images and the memory of globals the new code dropped — until no
/// registered thread can still be running in it (a quiescent-state scheme). Each reload that replaces something moves
/// the epoch on by one after its re-points; what it replaced is freed once every online <see cref="HcrThread"/> has
/// reported a quiescent state at that epoch or later. With no thread registered nothing waits: the host then promises
/// that no thread runs module code during a reload (the runtime's original contract), and images go at once.
/// <para>
/// Bounded: at most <see cref="MaxRetainedGenerations"/> reloads' worth of images wait. A reload that exceeds it waits
/// up to <see cref="QuiescenceTimeout"/> for the threads holding the oldest; then those are unloaded anyway, counted in
/// <see cref="ForcedUnloads"/> and reported as a diagnostic naming the threads — a thread still inside that code will
/// fault, so a host that sees this must report quiescent states more often, go offline while it blocks, or raise the
/// bound.
/// </para>
/// </summary>
public sealed unsafe class ImageRetention
{
    private readonly Lock _lock = new();
    private readonly List<HcrThread> _threads = [];
    private readonly Queue<RetiredBatch> _retired = new();
    private readonly Action<string> _report;
    private long _epoch;
    private int _retiredBatches;
    private long _unloadedImages;
    private long _freedBlocks;
    private long _forcedUnloads;

    internal ImageRetention(int maxRetainedGenerations, TimeSpan quiescenceTimeout, Action<string> report)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedGenerations);
        ArgumentOutOfRangeException.ThrowIfLessThan(quiescenceTimeout, TimeSpan.Zero);
        MaxRetainedGenerations = maxRetainedGenerations;
        QuiescenceTimeout = quiescenceTimeout;
        _report = report;
    }

    /// <summary>How many reloads' replaced images may wait for slow threads (see <see cref="HcrRuntimeOptions.MaxRetainedGenerations"/>).</summary>
    public int MaxRetainedGenerations { get; }

    /// <summary>How long a reload over the bound waits for lagging threads before it unloads their images anyway.</summary>
    public TimeSpan QuiescenceTimeout { get; }

    /// <summary>+1 for each reload (or rolled-back reload) that replaced an image or memory.</summary>
    public long Epoch => Volatile.Read(ref _epoch);

    /// <summary>How many threads are registered now.</summary>
    public int RegisteredThreads
    {
        get
        {
            lock (_lock)
            {
                return _threads.Count;
            }
        }
    }

    /// <summary>Library images replaced and still loaded because a registered thread may be running in them.</summary>
    public int RetainedImages
    {
        get
        {
            lock (_lock)
            {
                return _retired.Sum(b => b.Libraries.Count);
            }
        }
    }

    /// <summary>Replaced images unloaded so far (after quiescence, or forced).</summary>
    public long UnloadedImages => Interlocked.Read(ref _unloadedImages);

    /// <summary>Memory blocks of dropped globals freed so far.</summary>
    public long FreedBlocks => Interlocked.Read(ref _freedBlocks);

    /// <summary>Images unloaded while some registered thread had not reported quiescence (see the class remarks).</summary>
    public long ForcedUnloads => Interlocked.Read(ref _forcedUnloads);

    internal bool HasRetained => Volatile.Read(ref _retiredBatches) > 0;

    internal HcrThread Register(string name)
    {
        lock (_lock)
        {
            var thread = new HcrThread(this, name, Environment.CurrentManagedThreadId, Volatile.Read(ref _epoch));
            _threads.Add(thread);
            return thread;
        }
    }

    internal void Unregister(HcrThread thread)
    {
        lock (_lock)
        {
            _threads.Remove(thread);
        }

        Reclaim();
    }

    /// <summary>
    /// Retires what a reload replaced. Called on the reloading thread after the reload's re-points; that thread is at a
    /// quiescent point by contract (it is not running module code), so it counts as having reported.
    /// </summary>
    internal void Retire(IReadOnlyCollection<ModuleLibrary> libraries, IReadOnlyCollection<nint> blocks)
    {
        if (libraries.Count == 0 && blocks.Count == 0)
        {
            return;
        }

        var free = new List<RetiredBatch>();
        lock (_lock)
        {
            // A full fence: the re-points before it are visible to any thread that reads this epoch, and the reads of the
            // threads' epochs below come after it (see HcrThread.GoOnline).
            long epoch = Interlocked.Increment(ref _epoch);
            int self = Environment.CurrentManagedThreadId;
            foreach (var thread in _threads.Where(t => t.ManagedThreadId == self))
            {
                thread.ObserveUnlessOffline(epoch);
            }

            _retired.Enqueue(new RetiredBatch(epoch, [.. libraries], [.. blocks]));
            TakeReclaimable(free);
            Volatile.Write(ref _retiredBatches, _retired.Count);
        }

        Free(free);
        WaitWithinBound();
    }

    /// <summary>
    /// Over the bound, the reloading thread waits (up to <see cref="QuiescenceTimeout"/>) for the threads that hold the
    /// oldest images back — a thread that is merely descheduled reports within milliseconds — and only then unloads them
    /// anyway. Reloads thus slow down to the pace of the slowest caller before anything is forced.
    /// </summary>
    private void WaitWithinBound()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var free = new List<RetiredBatch>();
            string? forced = null;
            lock (_lock)
            {
                TakeReclaimable(free);
                if (_retired.Count > MaxRetainedGenerations && clock.Elapsed >= QuiescenceTimeout)
                {
                    var lagging = new List<RetiredBatch>();
                    while (_retired.Count > MaxRetainedGenerations)
                    {
                        lagging.Add(_retired.Dequeue());
                    }

                    long oldest = lagging[^1].Epoch;
                    var holders = _threads.Where(t => t.ObservedEpoch < oldest).Select(t => t.ToString()).ToList();
                    int images = lagging.Sum(b => b.Libraries.Count);
                    Interlocked.Add(ref _forcedUnloads, images);
                    forced = $"image retention: unloading {images} replaced image(s) ({string.Join(", ", lagging.SelectMany(b => b.Libraries).Select(l => Path.GetFileName(l.CopyPath)))}) " +
                        $"although {string.Join(", ", holders)} reported no quiescent state since they were replaced, because more than {MaxRetainedGenerations} reloads' images " +
                        $"waited {QuiescenceTimeout.TotalMilliseconds:F0} ms; a thread still running that code will fault: report quiescent states more often, go offline while blocked, " +
                        "or raise HcrRuntimeOptions.MaxRetainedGenerations or QuiescenceTimeout";
                    free.AddRange(lagging);
                }

                Volatile.Write(ref _retiredBatches, _retired.Count);
            }

            Free(free);
            if (forced is not null)
            {
                _report(forced);
            }

            lock (_lock)
            {
                if (_retired.Count <= MaxRetainedGenerations)
                {
                    return;
                }
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Frees whatever every online registered thread has passed; any thread may call it.</summary>
    internal void Reclaim()
    {
        var free = new List<RetiredBatch>();
        lock (_lock)
        {
            TakeReclaimable(free);
            Volatile.Write(ref _retiredBatches, _retired.Count);
        }

        Free(free);
    }

    /// <summary>Frees everything now (the runtime is being disposed: no module code may run any more).</summary>
    internal void ReleaseAll()
    {
        List<RetiredBatch> free;
        lock (_lock)
        {
            free = [.. _retired];
            _retired.Clear();
            Volatile.Write(ref _retiredBatches, 0);
        }

        Free(free);
    }

    /// <summary>
    /// Marks the retained library whose copy is <paramref name="copyPath"/> faulted, so that it is never unloaded, and
    /// returns its module; null when no retained library has that copy. Under the lock: a library is marked before it
    /// is taken for unloading, or not found.
    /// </summary>
    internal string? MarkFaulted(string copyPath)
    {
        lock (_lock)
        {
            foreach (var library in _retired.SelectMany(b => b.Libraries))
            {
                if (library.CopyPath == copyPath)
                {
                    library.MarkFaulted();
                    return library.Module;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The online registered threads that have not reported a quiescent state after epoch <paramref name="epoch"/> (one
    /// read at that epoch may predate what happened in it); empty when every one has.
    /// </summary>
    internal List<string> LaggingSince(long epoch)
    {
        lock (_lock)
        {
            return [.. _threads.Where(t => t.ObservedEpoch <= epoch).Select(t => t.ToString())];
        }
    }

    private void TakeReclaimable(List<RetiredBatch> free)
    {
        long quiesced = long.MaxValue;
        foreach (var thread in _threads)
        {
            quiesced = Math.Min(quiesced, thread.ObservedEpoch);
        }

        while (_retired.TryPeek(out var batch) && batch.Epoch <= quiesced)
        {
            free.Add(_retired.Dequeue());
        }
    }

    private void Free(List<RetiredBatch> batches)
    {
        foreach (var batch in batches)
        {
            foreach (var library in batch.Libraries)
            {
                library.Close();
                Interlocked.Increment(ref _unloadedImages);
            }

            foreach (nint block in batch.Blocks)
            {
                NativeMemory.AlignedFree((void*)block);
                Interlocked.Increment(ref _freedBlocks);
            }
        }
    }

    private sealed record RetiredBatch(long Epoch, List<ModuleLibrary> Libraries, List<nint> Blocks);
}
