using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// Calls into module code with a hardware fault contained (libhcrguard, <c>guard/hcrguard.c</c>): a SIGSEGV, SIGBUS,
/// SIGILL, SIGFPE or SIGTRAP raised by native code during the call returns here as a <see cref="ModuleFault"/>
/// instead of ending the process. Any other fault goes on to the handler installed before (the .NET runtime's). The
/// runtime's C ABI entry points call <see cref="EnterCallback"/>, so a fault while they run is never contained: that
/// would jump over their managed frames.
/// </summary>
internal static unsafe partial class FaultGuard
{
    private const string Library = "hcrguard";

    private static bool s_installed;

    /// <summary>Stack-realigning shims handed out so far (<see cref="Realigned"/>).</summary>
    private static int s_shimsUsed;

    /// <summary>
    /// Guarded calls running now, on any thread. Outside starts and reloads it is 0, and the C ABI entry points look no
    /// further (a plain static read): a thread inside a guarded call counted itself before it called module code, so it
    /// never reads 0 here, and another thread that does is not inside one.
    /// </summary>
    private static int s_activeCalls;

    /// <summary>
    /// The innermost guarded call of this thread, or null: what a C ABI entry point looks at. The class has no static
    /// initialiser, so reading it needs no class-initialisation check (it is on every C ABI call).
    /// </summary>
    [ThreadStatic]
    private static GuardFrame* t_frame;

    /// <summary>True while the calling thread is inside a guarded call (so it runs as a callback of module code).</summary>
    public static bool InGuardedCall
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_activeCalls != 0 && t_frame != null;
    }

    /// <summary>
    /// Installs the handlers (once per process), chaining to the ones installed now.
    /// </summary>
    /// <exception cref="InvalidOperationException">A handler could not be installed.</exception>
    public static void EnsureInstalled()
    {
        // hcr_guard_install runs its installation once (pthread_once): callers on several threads need no lock here.
        if (Volatile.Read(ref s_installed))
        {
            return;
        }

        // Under CoreCLR the runtime's own native libraries sit beside System.Private.CoreLib: faults there are
        // managed code's. A NativeAOT library has no such directory; its managed code is in the object that holds the
        // guard, which the guard leaves out by itself.
        string? directory = RuntimeFeature.IsDynamicCodeSupported && RuntimeEnvironment.GetRuntimeDirectory() is { Length: > 0 } runtime
            ? System.IO.Path.TrimEndingDirectorySeparator(runtime) + "/"
            : null;
        int failed = Install(directory);
        if (failed != 0)
        {
            throw new InvalidOperationException($"the fault guard could not install its handler for {ModuleFault.SignalName(failed)}");
        }

        Volatile.Write(ref s_installed, true);
    }

    /// <summary>
    /// Calls <c>fn(a0, a1)</c> (any function of up to two pointer-sized arguments) with faults contained.
    /// </summary>
    /// <returns>Null when the call returned (its return register in <paramref name="result"/>), else the fault.</returns>
    public static ModuleFault? Call(string function, nint fn, nint a0, nint a1, out nint result)
    {
        GuardFrame frame = default;
        var outer = t_frame;
        t_frame = &frame;
        Interlocked.Increment(ref s_activeCalls);
        nint value = 0;
        int signal;
        try
        {
            signal = GuardCall(&frame, fn, a0, a1, &value);
        }
        finally
        {
            Interlocked.Decrement(ref s_activeCalls);
            t_frame = outer;
        }

        result = value;
        return signal == 0 ? null : new ModuleFault(function, frame.Signal, frame.Code, frame.Address, frame.Pc, Location(frame.Pc));
    }

    /// <summary>
    /// What each C ABI entry point does first: when its thread is inside a guarded call (module code called it), the
    /// guard is disarmed until the returned scope is disposed. Outside starts and reloads it costs one static read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static CallbackScope EnterCallback() =>
        s_activeCalls != 0 && t_frame != null && SetArmed(0) != 0 ? new CallbackScope(armed: true) : default;

    /// <summary>
    /// The length of a C string a module passed, read with faults contained (only inside a guarded call; elsewhere the
    /// caller reads it directly as before). False when the read faulted.
    /// </summary>
    public static bool TryMeasureCString(byte* text, int max, out int length)
    {
        int signal = GuardStrnlen(text, (nuint)max, out nuint measured);
        length = (int)measured;
        return signal == 0;
    }

    /// <summary>
    /// <c>*where = value</c> for an output pointer a module passed, with faults contained (only inside a guarded call).
    /// False when the write faulted.
    /// </summary>
    public static bool TryStorePointer(nint* where, nint value) => GuardStorePointer(where, value) == 0;

    /// <summary>The directory of the file that holds the guard's C half (libhcrguard.so, or the NativeAOT library that links it in), or null.</summary>
    public static string? NativeDirectory()
    {
        DlInfo info;
        return Dladdr(Self(), &info) != 0 && Marshal.PtrToStringUTF8(info.FileName) is { Length: > 0 } file
            ? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file))
            : null;
    }

    /// <summary>
    /// The loaded object that holds <paramref name="address"/>: its name as the dynamic loader keeps it (for a library
    /// loaded by path, the path <c>dlopen</c> was given) and its base address; null outside every loaded object.
    /// </summary>
    public static (string Path, ulong Base)? ObjectAt(ulong address)
    {
        DlInfo info;
        if (address == 0 || Dladdr((nint)address, &info) == 0 || info.FileName == 0)
        {
            return null;
        }

        return (Marshal.PtrToStringUTF8(info.FileName) ?? "", (ulong)info.Base);
    }

    /// <summary>"image+0xoffset" for an address inside a loaded object, or null.</summary>
    private static string? Location(ulong pc) =>
        ObjectAt(pc) is { } image ? $"{System.IO.Path.GetFileName(image.Path)}+0x{pc - image.Base:x}" : null;

    /// <summary>Re-arms the guarded call that a C ABI entry point disarmed.</summary>
    public readonly ref struct CallbackScope
    {
        private readonly bool _armed;

        internal CallbackScope(bool armed) => _armed = armed;

        public void Dispose()
        {
            if (_armed)
            {
                SetArmed(1);
            }
        }
    }

    /// <summary><c>hcr_guard_frame</c> in hcrguard.c, what a guarded call reports: the same fields in the same order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct GuardFrame
    {
        public int Probe;
        public int Signal;
        public int Code;
        public int Reserved;
        public ulong Address;
        public ulong Pc;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public nint FileName;
        public nint Base;
        public nint SymbolName;
        public nint SymbolAddress;
    }

    [LibraryImport(Library, EntryPoint = "hcr_guard_install", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Install(string? runtimeDirectory);

    [LibraryImport(Library, EntryPoint = "hcr_guard_call")]
    private static partial int GuardCall(GuardFrame* frame, nint fn, nint a0, nint a1, nint* result);

    // Short and never blocking: no GC transition, so a guarded string read costs about as much as strnlen.
    /// <summary>Disarms (0) or arms again (1) this thread's innermost guarded call; returns whether it was armed.</summary>
    [LibraryImport(Library, EntryPoint = "hcr_guard_set_armed")]
    [SuppressGCTransition]
    private static partial int SetArmed(int armed);

    [LibraryImport(Library, EntryPoint = "hcr_guard_strnlen")]
    [SuppressGCTransition]
    private static partial int GuardStrnlen(byte* text, nuint max, out nuint length);

    [LibraryImport(Library, EntryPoint = "hcr_guard_store_pointer")]
    [SuppressGCTransition]
    private static partial int GuardStorePointer(nint* where, nint value);

    /// <summary>
    /// <paramref name="function"/> behind a shim of its own (<c>hcr_guard_realigned</c>) that realigns the stack before
    /// it calls the function: .NET's entry stubs rely on the 16-byte alignment the SysV ABI promises, and a module that
    /// broke it would end the process there. The function must take at most six integer or pointer arguments.
    /// </summary>
    /// <exception cref="InvalidOperationException">The C half has no shim left.</exception>
    public static nint Realigned(nint function)
    {
        int index = Interlocked.Increment(ref s_shimsUsed) - 1;
        nint shim = Realign(index, function);
        return shim != 0 ? shim : throw new InvalidOperationException($"libhcrguard has no stack-realigning shim left (number {index} was asked for)");
    }

    [LibraryImport(Library, EntryPoint = "hcr_guard_realigned")]
    private static partial nint Realign(int index, nint target);

    [LibraryImport(Library, EntryPoint = "hcr_guard_self")]
    private static partial nint Self();

    [LibraryImport("libc.so.6", EntryPoint = "dladdr")]
    private static partial int Dladdr(nint address, DlInfo* info);
}
