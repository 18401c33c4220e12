namespace HcrLab.Runtime;

/// <summary>
/// A host thread that calls module code, registered with <see cref="HcrRuntime.RegisterThread"/> so that reloads keep
/// the code it may be running. Its one duty is to call <see cref="ReportQuiescentState"/> from time to time at a point
/// where it is not inside module code (between two frames, two requests, two jobs); an image a reload replaced is
/// unloaded only after every online registered thread has done so once after that reload.
/// <para>
/// A thread that will not call module code for a while (it blocks, sleeps or waits for work) goes offline: reloads do
/// not wait for an offline thread. <see cref="GoOnline"/> before it calls module code again. <see cref="ReportQuiescentState"/>,
/// <see cref="GoOffline"/> and <see cref="GoOnline"/> speak for the thread that registered and throw
/// <see cref="WrongThreadException"/> on any other; <see cref="Dispose"/> unregisters it, from any thread.
/// </para>
/// </summary>
public sealed class HcrThread : IDisposable
{
    /// <summary>The epoch an offline thread reports: larger than any, so it never holds an image back.</summary>
    internal const long OfflineEpoch = long.MaxValue;

    private readonly ImageRetention _retention;
    private long _observed;
    private bool _disposed;

    internal HcrThread(ImageRetention retention, string name, int managedThreadId, long observed)
    {
        _retention = retention;
        Name = name;
        ManagedThreadId = managedThreadId;
        _observed = observed;
    }

    /// <summary>The name diagnostics use for this thread.</summary>
    public string Name { get; }

    /// <summary>The managed id of the thread that registered.</summary>
    public int ManagedThreadId { get; }

    /// <summary>False between <see cref="GoOffline"/> and <see cref="GoOnline"/>.</summary>
    public bool IsOnline => Volatile.Read(ref _observed) != OfflineEpoch;

    /// <summary>The retention epoch this thread last reported (see <see cref="ImageRetention.Epoch"/>).</summary>
    public long ObservedEpoch => Volatile.Read(ref _observed);

    /// <summary>
    /// Says "this thread is not running module code now". Cheap when no image waits (two reads and at most one store);
    /// when images wait and this was the last thread holding them back, it unloads them on this thread.
    /// </summary>
    /// <exception cref="WrongThreadException">Called on another thread than the one that registered.</exception>
    public void ReportQuiescentState()
    {
        RequireOwnThread(nameof(ReportQuiescentState));
        long epoch = _retention.Epoch;
        if (Volatile.Read(ref _observed) == epoch)
        {
            return;
        }

        // A release store: the calls this thread made before are over. An epoch read after a reload's re-points (the
        // epoch moves after them) means every later call through a slot reaches the new code.
        Volatile.Write(ref _observed, epoch);
        if (_retention.HasRetained)
        {
            _retention.Reclaim();
        }
    }

    /// <summary>The thread will not call module code until <see cref="GoOnline"/>: reloads stop waiting for it.</summary>
    /// <exception cref="WrongThreadException">Called on another thread than the one that registered.</exception>
    public void GoOffline()
    {
        RequireOwnThread(nameof(GoOffline));
        Volatile.Write(ref _observed, OfflineEpoch);
        if (_retention.HasRetained)
        {
            _retention.Reclaim();
        }
    }

    /// <summary>The thread may call module code again.</summary>
    /// <exception cref="WrongThreadException">Called on another thread than the one that registered.</exception>
    public void GoOnline()
    {
        RequireOwnThread(nameof(GoOnline));
        // A full fence between this store and the thread's next call through a slot, pairing the fence a reload makes
        // between its re-points and its reading of this field: either the reload sees this thread online (and waits
        // for it) or this thread's next call sees the re-points (and reaches the new code).
        Interlocked.Exchange(ref _observed, _retention.Epoch);
    }

    /// <summary>Unregisters the thread: it must not call module code any more.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Volatile.Write(ref _observed, OfflineEpoch);
        _retention.Unregister(this);
    }

    /// <summary>Marks the thread quiescent at <paramref name="epoch"/> without reclaiming (the reloading thread, under the retention lock).</summary>
    internal void ObserveUnlessOffline(long epoch)
    {
        if (Volatile.Read(ref _observed) != OfflineEpoch)
        {
            Volatile.Write(ref _observed, epoch);
        }
    }

    private void RequireOwnThread(string method)
    {
        int current = Environment.CurrentManagedThreadId;
        if (current != ManagedThreadId)
        {
            throw new WrongThreadException(method, this, current);
        }
    }

    /// <summary>The thread's name, managed id and the epoch it last observed (or "offline"), in one line.</summary>
    public override string ToString() => $"thread '{Name}' (managed id {ManagedThreadId}, {(IsOnline ? $"epoch {ObservedEpoch}" : "offline")})";
}
