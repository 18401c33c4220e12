using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using HcrLab.Runtime;

namespace HcrLab.Tests.Runtime;

/// <summary>Threads other than the test's own, for the image-retention contract.</summary>
internal static class OtherThreads
{
    /// <summary>
    /// Registers a thread other than the reloading one, which holds replaced images until it reports or goes. The thread
    /// stays alive and makes its own reports when the test asks (an <see cref="HcrThread"/> refuses reports from any other
    /// thread), each call waiting until the thread has made it.
    /// </summary>
    public static RegisteredThread RegisterOnAnotherThread(this HcrRuntime runtime, string name) => new(() => runtime.RegisterThread(name));

    /// <summary>As <see cref="RegisterOnAnotherThread(HcrRuntime, string)"/>, with the registration <paramref name="register"/> makes on the new thread.</summary>
    public static RegisteredThread RegisterOnAnotherThread(Func<HcrThread> register) => new(register);
}

/// <summary>
/// A dedicated thread that registered itself and runs, on request and in order, the calls its <see cref="HcrThread"/>
/// must make itself. Disposing it unregisters the thread (on that thread) and ends it.
/// </summary>
internal sealed class RegisteredThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;
    private bool _disposed;

    public RegisteredThread(Func<HcrThread> register)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "test's registered thread" };
        _thread.Start();
        Registration = Run(register);
    }

    /// <summary>The registration, owned by the dedicated thread; read its state from anywhere.</summary>
    public HcrThread Registration { get; }

    public long ObservedEpoch => Registration.ObservedEpoch;

    public bool IsOnline => Registration.IsOnline;

    public void ReportQuiescentState() => Run(() => Registration.ReportQuiescentState());

    public void GoOffline() => Run(() => Registration.GoOffline());

    public void GoOnline() => Run(() => Registration.GoOnline());

    /// <summary>Runs <paramref name="call"/> on the registered thread and returns its result (or throws its exception).</summary>
    public T Run<T>(Func<T> call)
    {
        T result = default!;
        Run(() => { result = call(); });
        return result;
    }

    public void Run(Action call)
    {
        ExceptionDispatchInfo? error = null;
        using var done = new ManualResetEventSlim();
        _work.Add(() =>
        {
            try
            {
                call();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        error?.Throw();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Run(() => Registration.Dispose());
        _work.CompleteAdding();
        _thread.Join();
    }

    private void Loop()
    {
        foreach (var call in _work.GetConsumingEnumerable())
        {
            call();
        }
    }
}
