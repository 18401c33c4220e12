using System.Runtime.InteropServices;
using HcrLab.Runtime;

namespace HcrLab.Native;

/// <summary>
/// The entry points for C hosts beside the reference's (<see cref="NativeExports"/>), all named <c>hcrlab*</c>: each
/// returns an <see cref="HcrlabStatus"/> and leaves the reason for a failure in <see cref="LastError"/>
/// (<c>hcrlabLastError()</c>), instead of answering void and writing to stderr. They reach the runtime's public API
/// (start, reload, threads, guarded calls, options), which C# hosts use directly. <c>include/hcrlab.h</c> documents each.
/// </summary>
internal static unsafe class HcrlabExports
{
    /// <summary>The package version (Directory.Build.props), as <c>hcrlabVersion()</c> answers it; allocated once, never freed.</summary>
    private static readonly byte* VersionText = (byte*)Marshal.StringToCoTaskMemUTF8(
        typeof(HcrlabExports).Assembly.GetName().Version is { } version ? version.ToString(3) : "0.0.0");

    /// <summary>The calling thread's registration (<c>hcrlabRegisterThread</c>), as liburcu-qsbr keeps its per-thread reader.</summary>
    [ThreadStatic]
    private static HcrThread? t_thread;

    [UnmanagedCallersOnly(EntryPoint = "hcrlabVersion")]
    private static byte* Version() => VersionText;

    [UnmanagedCallersOnly(EntryPoint = "hcrlabLastError")]
    private static byte* LastErrorText() => LastError.Text;

    /// <summary><c>HcrlabOptions</c> of hcrlab.h: the same fields in the same order; zeroes are the defaults.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Options
    {
        public nuint Size;
        public int Trial;
        public byte* ModuleDirectory;
        public byte Quiet;
        public byte NoFaultGuard;
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrlabCreate")]
    private static int Create(Options* options)
    {
        using var callback = FaultGuard.EnterCallback();
        const string Function = "hcrlabCreate";
        if (options == null || options->Size < (nuint)sizeof(Options))
        {
            return (int)LastError.Failed(HcrlabStatus.InvalidArgument, Function,
                $"options is NULL or its size field is less than sizeof(HcrlabOptions) ({sizeof(Options)}): set size = sizeof options");
        }

        if (options->Trial is < (int)ModuleTrial.None or > (int)ModuleTrial.Start)
        {
            return (int)LastError.Failed(HcrlabStatus.InvalidArgument, Function,
                $"trial {options->Trial} is none of HCRLAB_TRIAL_NONE (0), HCRLAB_TRIAL_LOAD (1), HCRLAB_TRIAL_START (2)");
        }

        try
        {
            NativeRuntime.Create(new HcrRuntimeOptions
            {
                Trial = (ModuleTrial)options->Trial,
                ModuleDirectory = Marshal.PtrToStringUTF8((nint)options->ModuleDirectory),
                ReportToStandardError = options->Quiet == 0,
                ContainFaults = options->NoFaultGuard == 0,
            });
            return (int)LastError.Succeeded();
        }
        catch (Exception e)
        {
            return (int)LastError.Failed(Function, e);
        }
    }

    /// <summary><c>hcrInit</c> with a status: a start that fails is undone and its reason kept for <c>hcrlabLastError</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrlabInit")]
    private static int Init(byte** imports, byte* main, byte* system, nint mainDataInit, nint handle, nint getProcAddr)
    {
        using var callback = FaultGuard.EnterCallback();
        const string Function = "hcrlabInit";
        if (Runtime(Function, out int status) is not { } runtime)
        {
            return status;
        }

        try
        {
            var (start, names) = ModuleAbi.ReadInit(imports, main, system, mainDataInit, handle, getProcAddr);
            if (runtime.IsStarted)
            {
                return (int)LastError.Failed(HcrlabStatus.InvalidCall, Function, "the runtime is started already; call hcrlabReload to pick up changes");
            }

            runtime.Start(start, names);
            return (int)LastError.Succeeded();
        }
        catch (Exception e)
        {
            return (int)LastError.Failed(Function, e);
        }
    }

    /// <summary>
    /// <c>hcrPerformCodeReload</c> with a status (Nim's collector paused as there): <c>*reloaded</c> (when not NULL) is
    /// true when modules changed and were reloaded, false when nothing changed or the reload was refused and undone.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrlabReload")]
    private static int Reload(byte* reloaded)
    {
        using var callback = FaultGuard.EnterCallback();
        const string Function = "hcrlabReload";
        if (reloaded != null)
        {
            *reloaded = 0;
        }

        if (Runtime(Function, out int status) is not { } runtime)
        {
            return status;
        }

        if (!runtime.IsStarted)
        {
            return (int)LastError.Failed(HcrlabStatus.InvalidCall, Function, "nothing is started: call hcrlabInit (or hcrInit) first");
        }

        try
        {
            var result = NativeRuntime.WithNimGcPaused(runtime.PerformCodeReload);
            if (reloaded != null)
            {
                *reloaded = result.Reloaded ? (byte)1 : (byte)0;
            }

            return (int)LastError.Succeeded();
        }
        catch (Exception e)
        {
            return (int)LastError.Failed(Function, e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrlabRegisterThread")]
    private static int RegisterThread(byte* name)
    {
        using var callback = FaultGuard.EnterCallback();
        const string Function = "hcrlabRegisterThread";
        if (Runtime(Function, out int status) is not { } runtime)
        {
            return status;
        }

        if (t_thread is not null)
        {
            return (int)LastError.Failed(HcrlabStatus.InvalidCall, Function, $"this thread is registered already, as '{t_thread.Name}'");
        }

        try
        {
            t_thread = runtime.RegisterThread(Marshal.PtrToStringUTF8((nint)name) ?? $"native thread {Environment.CurrentManagedThreadId}");
            return (int)LastError.Succeeded();
        }
        catch (Exception e)
        {
            return (int)LastError.Failed(Function, e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrlabUnregisterThread")]
    private static int UnregisterThread()
    {
        using var callback = FaultGuard.EnterCallback();
        if (RegisteredThread("hcrlabUnregisterThread", out int status) is not { } thread)
        {
            return status;
        }

        thread.Dispose();
        t_thread = null;
        return (int)LastError.Succeeded();
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrlabQuiescentState")]
    private static int QuiescentState()
    {
        using var callback = FaultGuard.EnterCallback();
        return OnRegisteredThread("hcrlabQuiescentState", static thread => thread.ReportQuiescentState());
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrlabThreadOffline")]
    private static int ThreadOffline()
    {
        using var callback = FaultGuard.EnterCallback();
        return OnRegisteredThread("hcrlabThreadOffline", static thread => thread.GoOffline());
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrlabThreadOnline")]
    private static int ThreadOnline()
    {
        using var callback = FaultGuard.EnterCallback();
        return OnRegisteredThread("hcrlabThreadOnline", static thread => thread.GoOnline());
    }

    /// <summary><see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/>: <c>*result</c> (when not NULL) gets rax.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrlabCallGuarded")]
    private static int CallGuarded(nint function, nint a0, nint a1, nint* result)
    {
        using var callback = FaultGuard.EnterCallback();
        const string Function = "hcrlabCallGuarded";
        if (Runtime(Function, out int status) is not { } runtime)
        {
            return status;
        }

        try
        {
            nint value = runtime.CallGuarded(function, a0, a1);
            if (result != null)
            {
                *result = value;
            }

            return (int)LastError.Succeeded();
        }
        catch (Exception e)
        {
            return (int)LastError.Failed(Function, e);
        }
    }

    /// <summary><see cref="HcrRuntime.CallGuarded(string, string, nint, nint)"/>: proc <c>name</c> of <c>module</c>, through its slot.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrlabCallProcGuarded")]
    private static int CallProcGuarded(byte* module, byte* name, nint a0, nint a1, nint* result)
    {
        using var callback = FaultGuard.EnterCallback();
        const string Function = "hcrlabCallProcGuarded";
        if (Runtime(Function, out int status) is not { } runtime)
        {
            return status;
        }

        if (module == null || name == null)
        {
            return (int)LastError.Failed(HcrlabStatus.InvalidArgument, Function, "the module or the name is NULL");
        }

        try
        {
            nint value = runtime.CallGuarded(Marshal.PtrToStringUTF8((nint)module)!, Marshal.PtrToStringUTF8((nint)name)!, a0, a1);
            if (result != null)
            {
                *result = value;
            }

            return (int)LastError.Succeeded();
        }
        catch (Exception e)
        {
            return (int)LastError.Failed(Function, e);
        }
    }

    /// <summary>The process's runtime, created with the defaults by the first call; null with the status when it cannot be.</summary>
    private static HcrRuntime? Runtime(string function, out int status)
    {
        if (NativeRuntime.TryEnsure(out var error) is { } runtime)
        {
            status = 0;
            return runtime;
        }

        status = (int)LastError.Failed(HcrlabStatus.Unavailable, function, $"the runtime could not be created: {error!.GetType().Name}: {error.Message}");
        return null;
    }

    private static HcrThread? RegisteredThread(string function, out int status)
    {
        status = 0;
        if (t_thread is { } thread)
        {
            return thread;
        }

        status = (int)LastError.Failed(HcrlabStatus.InvalidCall, function, "this thread is not registered: call hcrlabRegisterThread on it first");
        return null;
    }

    private static int OnRegisteredThread(string function, Action<HcrThread> report)
    {
        if (RegisteredThread(function, out int status) is not { } thread)
        {
            return status;
        }

        try
        {
            report(thread);
            return (int)LastError.Succeeded();
        }
        catch (Exception e)
        {
            return (int)LastError.Failed(function, e);
        }
    }
}
