using System.Runtime.InteropServices;
using System.Text;

namespace HcrLab.Runtime;

/// <summary>
/// The C ABI that modules call, as <c>[UnmanagedCallersOnly]</c> functions that a module's <c>HcrInit000</c> fetches by
/// name through <see cref="GetProcAddress"/>. Strings are UTF-8 and copied (they may live in a library that is
/// unloaded later). Nothing here throws into native code or aborts the host: a refused call returns NULL or false and
/// is reported as a diagnostic; during a start or reload, a refused registration also fails that module's load.
/// <code>
/// void* hcrRegisterProc(const char* module, const char* name, void* fn);      // the proc's slot
/// void* hcrGetProc(const char* module, const char* name);                     // NULL when unknown
/// bool  hcrRegisterGlobal(const char* module, const char* name, size_t size,
///                         void (*gcMarker)(void), void** out);                // true when new
/// void* hcrGetGlobal(const char* module, const char* name);                   // NULL when unknown
/// void  hcrAddEventHandler(bool isBefore, void (*fn)(void));
/// void  hcrAddModule(const char* module);
/// int64_t hcrGeneration(void);
/// bool  hcrHasModuleChanged(const char* moduleOrSigHash);
/// bool  hcrReloadNeeded(void);
/// void  hcrPerformCodeReload(void);
/// void  hcrMarkGlobals(void);
/// void  hcrInit(const char** imports, const char* main, const char* system, void (*mainDatInit)(void),
///               void* handle, void* (*getProcAddr)(void*, const char*));
/// void  hcrFailInit(const char* reason);                                     // fails the load being initialised
/// </code>
/// Differences from Nim: <c>hcrAddEventHandler</c> takes a plain C function pointer, not a Nim closure (environment
/// and function), so a C module passes a function and keeps any state in its globals; <c>hcrHasModuleChanged</c>
/// takes a C string (a signature hash or a module name), not a Nim string; a global registered again with another
/// size is refused (<c>*out</c> = NULL, false) instead of silently keeping the old block.
/// </summary>
internal static unsafe class ModuleAbi
{
    /// <summary>
    /// The entry points as modules get them (and the getter too): each behind a stack-realigning shim of the fault
    /// guard's C half (<see cref="FaultGuard.Realigned"/>), so that module code calling with a misaligned stack does
    /// not end the process inside .NET's entry stub.
    /// </summary>
    private static readonly Dictionary<string, nint> EntryPoints = new Dictionary<string, nint>(StringComparer.Ordinal)
    {
        ["hcrRegisterProc"] = (nint)(delegate* unmanaged<byte*, byte*, nint, nint>)&RegisterProcEntry,
        ["hcrGetProc"] = (nint)(delegate* unmanaged<byte*, byte*, nint>)&GetProcEntry,
        ["hcrRegisterGlobal"] = (nint)(delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte>)&RegisterGlobalEntry,
        ["hcrGetGlobal"] = (nint)(delegate* unmanaged<byte*, byte*, nint>)&GetGlobalEntry,
        ["hcrAddEventHandler"] = (nint)(delegate* unmanaged<byte, nint, void>)&AddEventHandlerEntry,
        ["hcrAddModule"] = (nint)(delegate* unmanaged<byte*, void>)&AddModuleEntry,
        ["hcrGeneration"] = (nint)(delegate* unmanaged<long>)&GenerationEntry,
        ["hcrHasModuleChanged"] = (nint)(delegate* unmanaged<byte*, byte>)&HasModuleChangedEntry,
        ["hcrReloadNeeded"] = (nint)(delegate* unmanaged<byte>)&ReloadNeededEntry,
        ["hcrPerformCodeReload"] = (nint)(delegate* unmanaged<void>)&PerformCodeReloadEntry,
        ["hcrMarkGlobals"] = (nint)(delegate* unmanaged<void>)&MarkGlobalsEntry,
        ["hcrInit"] = (nint)(delegate* unmanaged<byte**, byte*, byte*, nint, nint, nint, void>)&InitEntry,
        ["hcrFailInit"] = (nint)(delegate* unmanaged<byte*, void>)&FailInitEntry,
    }.ToDictionary(entry => entry.Key, entry => FaultGuard.Realigned(entry.Value), StringComparer.Ordinal);

    /// <summary><c>void* getProcAddr(void* handle, const char* name)</c>, as passed to <c>HcrInit000</c>.</summary>
    public static nint ProcAddressGetter { get; } = FaultGuard.Realigned((nint)(delegate* unmanaged<nint, byte*, nint>)&GetProcAddressEntry);

    public static IReadOnlyCollection<string> Names => EntryPoints.Keys;

    public static nint Lookup(string name) => EntryPoints.GetValueOrDefault(name);

    internal static nint GetProcAddress(nint handle, byte* name)
    {
        try
        {
            string? text = Utf8(name);
            nint address = text is null ? 0 : Lookup(text);
            if (address == 0)
            {
                Refuse($"getProcAddr: the runtime has no entry point named '{text ?? "(null)"}' (it has {string.Join(", ", Names)})", failsLoad: true);
            }

            return address;
        }
        catch (Exception e)
        {
            return Fault("getProcAddr", e);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static nint RegisterProc(byte* module, byte* name, nint fn)
    {
        try
        {
            // Not inside a guarded call (a start or reload, when the direct path defers anyway): pointers are checked first there.
            if (!FaultGuard.InGuardedCall && HcrRuntime.Current is { } current && module != null && name != null && fn != 0)
            {
                // Outside a start or reload, by the caller's bytes: a known name re-pointed, or a new one added.
                nint slot = current.RegisterProcDirect(module, name, fn);
                if (slot != 0)
                {
                    return slot;
                }
            }

            if (Runtime("hcrRegisterProc") is not { } runtime || !ReadNames(module, name, "hcrRegisterProc", out var m, out var n))
            {
                return 0;
            }

            if (fn == 0)
            {
                Refuse($"hcrRegisterProc(\"{m.ToString()}\", \"{n.ToString()}\"): the function pointer is NULL", failsLoad: true);
                return 0;
            }

            return runtime.RegisterProc(m, n, fn);
        }
        catch (Exception e)
        {
            return Fault("hcrRegisterProc", e);
        }
    }

    internal static nint GetProc(byte* module, byte* name)
    {
        try
        {
            if (!FaultGuard.InGuardedCall && HcrRuntime.Current is { } current && module != null && name != null)
            {
                // The common case, without the lock: a known name while no writer runs.
                nint address = current.FindProcAddress(module, name);
                if (address != 0)
                {
                    return address;
                }
            }

            if (Runtime("hcrGetProc") is not { } runtime || !ReadNames(module, name, "hcrGetProc", out var m, out var n))
            {
                return 0;
            }

            // Not fatal to a load: a module may look up a proc its importer registers later (Init000 runs after every DatInit000).
            return runtime.GetProcSymbol(m, n).Address;
        }
        catch (HcrException e) when (HcrRuntime.Current is { IsLoading: true } runtime)
        {
            // Nor worth a stderr line during a load: Nim's system module looks up, in its DatInit000 (which runs first),
            // procs of modules it includes that register them only later, and expects NULL as Nim's runtime answers.
            runtime.Report($"hcrGetProc: {e.Message}", failsLoad: false, toStandardError: false);
            return 0;
        }
        catch (Exception e)
        {
            return Fault("hcrGetProc", e, failsLoad: false);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static byte RegisterGlobal(byte* module, byte* name, nuint size, nint gcMarker, nint* output)
    {
        try
        {
            if (output != null && !Store(output, 0))
            {
                return 0;
            }

            if (output != null && !FaultGuard.InGuardedCall && HcrRuntime.Current is { } current && module != null && name != null
                && current.RegisterGlobalDirect(module, name, size, gcMarker) is { } direct)
            {
                *output = direct.Address;
                return direct.IsNew ? (byte)1 : (byte)0;
            }

            if (Runtime("hcrRegisterGlobal") is not { } runtime || !ReadNames(module, name, "hcrRegisterGlobal", out var m, out var n))
            {
                return 0;
            }

            if (output == null)
            {
                Refuse($"hcrRegisterGlobal(\"{m.ToString()}\", \"{n.ToString()}\"): the output pointer is NULL", failsLoad: true);
                return 0;
            }

            var registration = runtime.RegisterGlobal(m, n, size, gcMarker);
            return !Store(output, registration.Address) ? (byte)0 : registration.IsNew ? (byte)1 : (byte)0;
        }
        catch (Exception e)
        {
            Fault("hcrRegisterGlobal", e);
            return 0;
        }
    }

    internal static nint GetGlobal(byte* module, byte* name)
    {
        try
        {
            if (!FaultGuard.InGuardedCall && HcrRuntime.Current is { } current && module != null && name != null)
            {
                nint address = current.FindGlobalAddress(module, name);
                if (address != 0)
                {
                    return address;
                }
            }

            if (Runtime("hcrGetGlobal") is not { } runtime || !ReadNames(module, name, "hcrGetGlobal", out var m, out var n))
            {
                return 0;
            }

            return runtime.GetGlobalSymbol(m, n).Address;
        }
        catch (Exception e)
        {
            return Fault("hcrGetGlobal", e, failsLoad: false);
        }
    }

    internal static void AddEventHandler(byte isBefore, nint function, nint environment = 0)
    {
        try
        {
            if (Runtime("hcrAddEventHandler") is not { } runtime)
            {
                return;
            }

            if (function == 0)
            {
                Refuse("hcrAddEventHandler: the handler is NULL", failsLoad: true);
                return;
            }

            runtime.AddHandler(new EventHandlerEntry(isBefore != 0, function, environment, null));
        }
        catch (Exception e)
        {
            Fault("hcrAddEventHandler", e);
        }
    }

    internal static void AddModule(byte* module)
    {
        try
        {
            string? m = Utf8(module);
            if (Runtime("hcrAddModule") is not { } runtime)
            {
                return;
            }

            if (string.IsNullOrEmpty(m))
            {
                Refuse("hcrAddModule: the module name is NULL or empty", failsLoad: true);
                return;
            }

            if (!IsUtf8(module, "hcrAddModule", "module name"))
            {
                return;
            }

            runtime.AddModule(m);
        }
        catch (Exception e)
        {
            Fault("hcrAddModule", e);
        }
    }

    internal static long Generation()
    {
        try
        {
            return Runtime("hcrGeneration")?.Generation ?? -1;
        }
        catch (Exception e)
        {
            Fault("hcrGeneration", e, failsLoad: false);
            return -1;
        }
    }

    internal static byte HasModuleChanged(byte* moduleOrHash)
    {
        string? key = Utf8(moduleOrHash);
        return key is not null && !IsUtf8(moduleOrHash, "hcrHasModuleChanged", "module name or signature hash") ? (byte)0 : HasModuleChanged(key);
    }

    /// <summary>The body of <c>hcrHasModuleChanged</c> once its argument (a C string, or Nim's string) is decoded.</summary>
    internal static byte HasModuleChanged(string? key)
    {
        try
        {
            if (Runtime("hcrHasModuleChanged") is not { } runtime || key is null)
            {
                return 0;
            }

            return runtime.HasModuleChanged(key) ? (byte)1 : (byte)0;
        }
        catch (Exception e)
        {
            Fault("hcrHasModuleChanged", e, failsLoad: false);
            return 0;
        }
    }

    internal static byte ReloadNeeded()
    {
        try
        {
            return Runtime("hcrReloadNeeded")?.ReloadNeeded() == true ? (byte)1 : (byte)0;
        }
        catch (Exception e)
        {
            Fault("hcrReloadNeeded", e, failsLoad: false);
            return 0;
        }
    }

    /// <summary>Must be called from code that is not in a module being reloaded (the old library is unloaded).</summary>
    internal static void PerformCodeReload()
    {
        try
        {
            Runtime("hcrPerformCodeReload")?.PerformCodeReload();
        }
        catch (Exception e)
        {
            Fault("hcrPerformCodeReload", e, failsLoad: false);
        }
    }

    /// <summary>
    /// <c>hcrInit</c>: the host says which modules it imports (a list ending with an empty string), its own module name,
    /// the system module, its data-init, and the handle and getter its modules' <c>HcrInit000</c> receive; then the
    /// runtime loads and initialises the import tree. A failure is reported and leaves nothing loaded.
    /// </summary>
    internal static void Init(byte** imports, byte* main, byte* system, nint mainDataInit, nint handle, nint getProcAddr)
    {
        try
        {
            if (Runtime("hcrInit") is not { } runtime)
            {
                return;
            }

            var (start, names) = ReadInit(imports, main, system, mainDataInit, handle, getProcAddr);
            runtime.Start(start, names);
        }
        catch (Exception e)
        {
            Fault("hcrInit", e, failsLoad: false);
        }
    }

    /// <summary>
    /// <c>hcrInit</c>'s arguments as <see cref="HcrRuntime.Start(HcrStartOptions, IEnumerable{string})"/> takes them: the
    /// imports up to the first NULL or empty string (a NULL list is none). Also read by the native library's
    /// <c>hcrlabInit</c>, which returns the start's error instead of reporting it.
    /// </summary>
    internal static (HcrStartOptions Start, List<string> Imports) ReadInit(byte** imports, byte* main, byte* system, nint mainDataInit, nint handle, nint getProcAddr)
    {
        var names = new List<string>();
        for (int i = 0; imports != null && imports[i] != null && imports[i][0] != 0; i++)
        {
            names.Add(Utf8(imports[i])!);
        }

        var start = new HcrStartOptions
        {
            RootModule = Utf8(main),
            SystemModule = Utf8(system),
            MainDataInit = mainDataInit,
            ModuleHandle = handle,
            ModuleProcAddressGetter = getProcAddr,
        };
        return (start, names);
    }

    internal static void MarkGlobals()
    {
        try
        {
            Runtime("hcrMarkGlobals")?.MarkGlobals();
        }
        catch (Exception e)
        {
            Fault("hcrMarkGlobals", e, failsLoad: false);
        }
    }

    [UnmanagedCallersOnly]
    private static nint GetProcAddressEntry(nint handle, byte* name)
    {
        using var callback = FaultGuard.EnterCallback();
        return GetProcAddress(handle, name);
    }

    [UnmanagedCallersOnly]
    private static nint RegisterProcEntry(byte* module, byte* name, nint fn)
    {
        using var callback = FaultGuard.EnterCallback();
        return RegisterProc(module, name, fn);
    }

    [UnmanagedCallersOnly]
    private static nint GetProcEntry(byte* module, byte* name)
    {
        using var callback = FaultGuard.EnterCallback();
        return GetProc(module, name);
    }

    [UnmanagedCallersOnly]
    private static byte RegisterGlobalEntry(byte* module, byte* name, nuint size, nint gcMarker, nint* output)
    {
        using var callback = FaultGuard.EnterCallback();
        return RegisterGlobal(module, name, size, gcMarker, output);
    }

    [UnmanagedCallersOnly]
    private static nint GetGlobalEntry(byte* module, byte* name)
    {
        using var callback = FaultGuard.EnterCallback();
        return GetGlobal(module, name);
    }

    [UnmanagedCallersOnly]
    private static void AddEventHandlerEntry(byte isBefore, nint function)
    {
        using var callback = FaultGuard.EnterCallback();
        AddEventHandler(isBefore, function);
    }

    [UnmanagedCallersOnly]
    private static void AddModuleEntry(byte* module)
    {
        using var callback = FaultGuard.EnterCallback();
        AddModule(module);
    }

    [UnmanagedCallersOnly]
    private static long GenerationEntry()
    {
        using var callback = FaultGuard.EnterCallback();
        return Generation();
    }

    [UnmanagedCallersOnly]
    private static byte HasModuleChangedEntry(byte* moduleOrHash)
    {
        using var callback = FaultGuard.EnterCallback();
        return HasModuleChanged(moduleOrHash);
    }

    [UnmanagedCallersOnly]
    private static byte ReloadNeededEntry()
    {
        using var callback = FaultGuard.EnterCallback();
        return ReloadNeeded();
    }

    [UnmanagedCallersOnly]
    private static void PerformCodeReloadEntry()
    {
        using var callback = FaultGuard.EnterCallback();
        PerformCodeReload();
    }

    [UnmanagedCallersOnly]
    private static void MarkGlobalsEntry()
    {
        using var callback = FaultGuard.EnterCallback();
        MarkGlobals();
    }

    [UnmanagedCallersOnly]
    private static void InitEntry(byte** imports, byte* main, byte* system, nint mainDataInit, nint handle, nint getProcAddr)
    {
        using var callback = FaultGuard.EnterCallback();
        Init(imports, main, system, mainDataInit, handle, getProcAddr);
    }

    [UnmanagedCallersOnly]
    private static void FailInitEntry(byte* reason)
    {
        using var callback = FaultGuard.EnterCallback();
        FailInit(reason);
    }

    /// <summary>
    /// A module's init function says it cannot initialise (its own check failed): the start or reload that runs it fails
    /// with the reason and is undone; outside a start or reload it is only a diagnostic.
    /// </summary>
    internal static void FailInit(byte* reason)
    {
        try
        {
            if (Runtime("hcrFailInit") is not null)
            {
                Refuse($"hcrFailInit: the module reported failure: {Utf8(reason) ?? "(no reason given)"}", failsLoad: true);
            }
        }
        catch (Exception e)
        {
            Fault("hcrFailInit", e);
        }
    }

    private static HcrRuntime? Runtime(string function)
    {
        var runtime = HcrRuntime.Current;
        if (runtime is null)
        {
            Console.Error.WriteLine($"hcr: {function}: no HcrRuntime is alive in this process");
        }

        return runtime;
    }

    /// <summary>Both names' keys (<see cref="SymbolKey"/>); refused when either is NULL or empty.</summary>
    private static bool ReadNames(byte* module, byte* name, string function, out SymbolKey moduleKey, out SymbolKey nameKey)
    {
        if (FaultGuard.InGuardedCall && (!Readable(module) || !Readable(name)))
        {
            moduleKey = default;
            nameKey = default;
            return false;
        }

        moduleKey = SymbolKey.FromC(module);
        nameKey = SymbolKey.FromC(name);
        if (moduleKey.IsEmpty || nameKey.IsEmpty)
        {
            Refuse($"{function}: the module or the name is NULL or empty", failsLoad: true);
            return false;
        }

        return IsUtf8(module, function, "module name") && IsUtf8(name, function, "name");
    }

    /// <summary>
    /// True when the C string <paramref name="text"/> (not NULL) is valid UTF-8; otherwise refused. Names are compared
    /// byte for byte as UTF-8, and a name that is not UTF-8 has no text to report or to meet a .NET name with: decoded, two
    /// invalid byte strings would alias one symbol (each invalid sequence becomes U+FFFD), so none is accepted.
    /// </summary>
    private static bool IsUtf8(byte* text, string function, string what)
    {
        var bytes = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text);
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return true;
        }

        Refuse($"{function}: the {what} is not valid UTF-8 (bytes {Convert.ToHexString(bytes)}); names are UTF-8 strings", failsLoad: true);
        return false;
    }

    private static string? Utf8(byte* text) => !FaultGuard.InGuardedCall || Readable(text) ? Marshal.PtrToStringUTF8((nint)text) : null;

    /// <summary>
    /// Inside a guarded call (module init code calling the runtime) a string pointer is measured under the fault guard
    /// first: a corrupted module's wild pointer is then a refusal that fails its load, not an access violation in
    /// managed code, which would end the process. Callers ask <see cref="FaultGuard.InGuardedCall"/> first (outside
    /// starts and reloads one static read).
    /// </summary>
    private static bool Readable(byte* text)
    {
        if (text == null || FaultGuard.TryMeasureCString(text, int.MaxValue, out _))
        {
            return true;
        }

        Refuse($"a string argument points at 0x{(ulong)text:x}, which is not readable memory", failsLoad: true);
        return false;
    }

    /// <summary>
    /// Writes a result through a module's output pointer; inside a guarded call under the fault guard, so that a
    /// corrupted module's wild pointer is a refusal (failing its load) and not an access violation in managed code.
    /// </summary>
    private static bool Store(nint* output, nint value)
    {
        if (!FaultGuard.InGuardedCall)
        {
            *output = value;
            return true;
        }

        if (FaultGuard.TryStorePointer(output, value))
        {
            return true;
        }

        Refuse($"hcrRegisterGlobal: the output pointer 0x{(ulong)output:x} is not writable memory", failsLoad: true);
        return false;
    }

    private static void Refuse(string message, bool failsLoad)
    {
        if (HcrRuntime.Current is { } runtime)
        {
            runtime.Report(message, failsLoad);
        }
        else
        {
            Console.Error.WriteLine($"hcr: {message}");
        }
    }

    /// <summary>Turns an exception into a diagnostic; the runtime's own refusals fail the current load unless told otherwise.</summary>
    private static nint Fault(string function, Exception e, bool failsLoad = true)
    {
        Refuse(e is HcrException ? $"{function}: {e.Message}" : $"{function}: {e.GetType().Name}: {e.Message}", failsLoad);
        return 0;
    }
}
