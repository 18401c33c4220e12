using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// The hot code reloading runtime, as a .NET host sees it: modules and their symbols, the jump table their procs are
/// called through, start and reload. Modules see the same runtime through the C ABI (<see cref="EntryPoint"/>), which
/// answers NULL or false where this face throws.
/// <para>
/// Registration, start and reload are serialised by one lock (re-entrant: module init code calls back into the runtime
/// on the reloading thread). Calls through slots take no lock. One runtime at a time per process: the C ABI has no
/// context argument, so modules reach <see cref="Current"/>.
/// </para>
/// <para>
/// C ABI lookups (<c>hcrGetProc</c>, <c>hcrGetGlobal</c>) take no lock either: a sequence counter, <c>_version</c>, is odd
/// while a writer adds or removes symbols or modules, and odd for the whole of a start or reload, whose symbols are not
/// anyone's to see until it commits. A lookup reads the counter, finds the module and the symbol in tables that stay
/// safe to read while written (<see cref="SymbolTable{T}"/>, <see cref="ModuleIndex"/>), and keeps its answer only when
/// the counter was even and has not moved; otherwise it asks again under the lock, as every lookup did before, and so
/// waits for a running start or reload as before.
/// </para>
/// <para>
/// Threads: a reload keeps the libraries it replaced loaded until every thread registered with
/// <see cref="RegisterThread"/> has reported a quiescent state (see <see cref="ImageRetention"/>); with no thread
/// registered, no thread may be running module code while <see cref="PerformCodeReload"/> runs.
/// </para>
/// </summary>
public sealed unsafe partial class HcrRuntime : IDisposable
{
    private static readonly Lock CurrentLock = new();
    private static HcrRuntime? s_current;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ModuleDescriptor> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModuleDescriptor>.AlternateLookup<ReadOnlySpan<char>> _modulesByName;
    private readonly Dictionary<string, string> _moduleByHash = new(StringComparer.Ordinal);
    private ModuleDescriptor _root;
    private readonly string _copyDirectory;
    private readonly bool _ownsCopyDirectory;
    private readonly ModuleChangeWatch? _changes;
    private GCHandle _self;
    private long _generation;
    private long _copySequence;
    private long _fileExaminations;
    private string _currentModule;
    private bool _started;
    private bool _reloading;
    private bool _disposed;
    private HashSet<string>? _reloadedNow;

    // The module whose init code (or native handler) runs now, on the thread holding the lock: its lookups are recorded.
    private ModuleDescriptor? _initModule;
    private readonly DroppedGlobals _droppedGlobals = new();
    private ReloadTransaction? _transaction;
    private HcrStartOptions _start = new();

    // The lookups' sequence counter (see the class): odd inside a write window. Windows nest (a start's registrations are
    // inside the start's window); _writeDepth counts them, under the lock.
    private long _version;
    private int _writeDepth;
    private bool _modulesChanged;
    private ModuleIndex _moduleIndex = ModuleIndex.Empty;

    private HcrRuntime(HcrRuntimeOptions options)
    {
        if (options.ContainFaults)
        {
            FaultGuard.EnsureInstalled();
        }

        Options = options;
        string? noWatch = "polling was asked for";
        _changes = options.ChangeDetection == ChangeDetection.Poll ? null : ModuleChangeWatch.TryCreate(out noWatch);
        if (_changes is null && options.ChangeDetection == ChangeDetection.Notify)
        {
            throw new PlatformNotSupportedException($"change notification was required (ChangeDetection.Notify) but is not available: {noWatch}");
        }

        Table = new JumpTable(options.JumpTableCapacity, options.JumpTableAnchor, options.SlotForm)
        {
            ReportBadCallsToStandardError = options.ReportToStandardError,
        };
        Retention = new ImageRetention(options.MaxRetainedGenerations, options.QuiescenceTimeout, message => Report(message, failsLoad: false));
        Table.Quiescence = Retention;
        Table.SlotReused += (_, e) => Report(e.ToString(), failsLoad: false);
        _modulesByName = _modules.GetAlternateLookup<ReadOnlySpan<char>>();
        _root = new ModuleDescriptor(options.RootModuleName, isRoot: true, _lock);
        _modules.Add(_root.Name, _root);
        _moduleIndex = new ModuleIndex(_modules.Values);
        _currentModule = _root.Name;
        _ownsCopyDirectory = options.CopyDirectory is null;
        _copyDirectory = options.CopyDirectory ?? CopyFolders.Create(CopyFolders.DefaultParent);
        Directory.CreateDirectory(_copyDirectory);
        _self = GCHandle.Alloc(this, GCHandleType.Normal);
    }

    /// <summary>The live runtime that modules' C ABI calls reach, or null.</summary>
    public static HcrRuntime? Current => Volatile.Read(ref s_current);

    /// <summary>The options the runtime was created with.</summary>
    public HcrRuntimeOptions Options { get; }

    /// <summary>The jump table: its bad-call count, last bad call and event are the host's view of calls to removed procs.</summary>
    public JumpTable Table { get; }

    /// <summary>How changed module files are found: <see cref="ChangeDetection.Notify"/> or <see cref="ChangeDetection.Poll"/>.</summary>
    public ChangeDetection ChangeDetection => _changes is null ? ChangeDetection.Poll : ChangeDetection.Notify;

    /// <summary>
    /// How many times a check (<see cref="ReloadNeeded"/>, <see cref="HasModuleChanged"/>, a reload) has examined a
    /// module file on disk: a <c>stat</c>, and a hash when the stat differs. With notification, only files reported
    /// changed are examined.
    /// </summary>
    public long ModuleFileExaminations
    {
        get
        {
            lock (_lock)
            {
                return _fileExaminations;
            }
        }
    }

    /// <summary>What reloads replaced and still keep loaded for threads that may be running it.</summary>
    public ImageRetention Retention { get; }

    /// <summary>0 after start, +1 per reload that changed something.</summary>
    public long Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    /// <summary>The host's own module (<see cref="HcrRuntimeOptions.RootModuleName"/>).</summary>
    public string RootModule => _root.Name;

    /// <summary>True once <c>Start</c> has succeeded.</summary>
    public bool IsStarted
    {
        get
        {
            lock (_lock)
            {
                return _started;
            }
        }
    }

    /// <summary>Where loaded copies of module files go.</summary>
    public string CopyDirectory => _copyDirectory;

    /// <summary>The opaque handle passed as the first argument of each module's <c>HcrInit000</c>.</summary>
    public nint Handle => GCHandle.ToIntPtr(_self);

    /// <summary>A snapshot of every module, the root first, then by name.</summary>
    public IReadOnlyList<ModuleDescriptor> Modules
    {
        get
        {
            lock (_lock)
            {
                return [_root, .. _modules.Values.Where(m => !m.IsRoot).OrderBy(m => m.Name, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The most recent diagnostic (see <see cref="Diagnostic"/>), or null.</summary>
    public string? LastDiagnostic { get; private set; }

    /// <summary>
    /// Raised when a module's C ABI call is refused or unanswerable (the C call gets NULL or false). Raised on the
    /// calling thread, inside the runtime's lock: do not call back into the runtime from another thread and wait for it.
    /// </summary>
    public event EventHandler<HcrDiagnosticEventArgs>? Diagnostic;

    /// <summary>Creates the process's runtime.</summary>
    /// <exception cref="InvalidOperationException">Another runtime is alive in this process.</exception>
    /// <exception cref="PlatformNotSupportedException">Not linux-x64 or linux-arm64.</exception>
    public static HcrRuntime Create(HcrRuntimeOptions? options = null)
    {
        HostCpu.RequireCurrent();
        lock (CurrentLock)
        {
            if (s_current is not null)
            {
                throw new InvalidOperationException(
                    "another HcrRuntime is alive in this process; dispose it first (the module C ABI has no context argument, so modules reach exactly one runtime)");
            }

            var runtime = new HcrRuntime(options ?? new HcrRuntimeOptions());
            Volatile.Write(ref s_current, runtime);
            return runtime;
        }
    }

    /// <summary>
    /// The <c>getProcAddr</c> passed to each module's <c>HcrInit000</c>: <c>void* (*)(void* handle, const char* name)</c>,
    /// returning the C ABI entry point of that name (see <see cref="EntryPointNames"/>) or NULL.
    /// </summary>
    public static nint ProcAddressGetter => ModuleAbi.ProcAddressGetter;

    /// <summary>The names of the C ABI entry points: hcrRegisterProc, hcrGetProc, hcrRegisterGlobal, ...</summary>
    public static IReadOnlyCollection<string> EntryPointNames => ModuleAbi.Names;

    /// <summary>The address of the C ABI entry point <paramref name="name"/>, or 0 for an unknown name.</summary>
    public static nint EntryPoint(string name) => ModuleAbi.Lookup(name);

    /// <summary>The library file a module name stands for (see <see cref="HcrRuntimeOptions.ResolveModulePath"/>).</summary>
    public string ResolveModulePath(string module) => Options.ResolvePath(module);

    /// <summary>
    /// Registers the calling thread as one that calls module code: from now on a replaced image stays loaded until this
    /// thread reports a quiescent state (<see cref="HcrThread.ReportQuiescentState"/>) after the reload that replaced
    /// it, goes offline, or is disposed. Register before the thread's first call into module code.
    /// </summary>
    /// <param name="name">How diagnostics name the thread; the managed thread's name or id when null.</param>
    public HcrThread RegisterThread(string? name = null)
    {
        ThrowIfDisposed();
        return Retention.Register(name ?? Thread.CurrentThread.Name ?? $"managed thread {Environment.CurrentManagedThreadId}");
    }

    // ---- modules -------------------------------------------------------------------------------------------------

    /// <summary>Adds an empty module (no library) if none of that name exists, so symbols can be registered under it.</summary>
    public void AddModule(string module)
    {
        ArgumentException.ThrowIfNullOrEmpty(module);
        lock (_lock)
        {
            ThrowIfDisposed();
            if (!_modules.ContainsKey(module))
            {
                using var write = BeginWrite(modules: true);
                _modules.Add(module, new ModuleDescriptor(module, isRoot: false, _lock));
                _transaction?.OnUndo(() => _modules.Remove(module));
            }
        }
    }

    /// <exception cref="UnknownModuleException">No such module.</exception>
    public ModuleDescriptor GetModule(string module)
    {
        lock (_lock)
        {
            return ModuleOrThrow(module);
        }
    }

    /// <summary>Finds a known module without throwing; false when no module of that name is known.</summary>
    public bool TryGetModule(string module, [NotNullWhen(true)] out ModuleDescriptor? descriptor)
    {
        lock (_lock)
        {
            return _modules.TryGetValue(module, out descriptor);
        }
    }

    // ---- procs and globals: one path, parameterised by the kind (runtime/SymbolKinds.cs) ------------------

    /// <summary>
    /// Registers <paramref name="target"/> as proc <paramref name="name"/> of <paramref name="module"/> and returns the
    /// proc's slot address. A new name takes a slot (a released one first); a known name keeps its slot, which is
    /// re-pointed. Either way the proc's generation becomes the current one.
    /// </summary>
    /// <exception cref="UnknownModuleException">No such module (add it first).</exception>
    /// <exception cref="JumpTableFullException">The name is new and no slot is free.</exception>
    public nint RegisterProc(string module, string name, nint target)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        Span<byte> moduleBuffer = stackalloc byte[SymbolKey.StackBytes], nameBuffer = stackalloc byte[SymbolKey.StackBytes];
        return RegisterProc(SymbolKey.FromString(module, moduleBuffer), SymbolKey.FromString(name, nameBuffer), target);
    }

    /// <summary>
    /// <see cref="RegisterProc(string, string, nint)"/> by keys (the C ABI's are the caller's bytes): the name's bytes are
    /// copied only when the proc is new, and become a string only when asked for.
    /// </summary>
    internal nint RegisterProc(scoped in SymbolKey module, scoped in SymbolKey name, nint target) =>
        Register<ProcKind, ProcSymbol, nint, nint>(module, name, target);

    /// <summary>
    /// The C ABI's registration outside a start or reload (no transaction, the module index current), by the caller's
    /// bytes as they are (see <see cref="NamedSymbol.KeyIsUtf8"/>): a known name is re-pointed; a new one, when its bytes
    /// are valid UTF-8, is added. 0 when <see cref="RegisterProc(in SymbolKey, in SymbolKey, nint)"/> must answer.
    /// </summary>
    internal nint RegisterProcDirect(byte* module, byte* name, nint target) =>
        TryRegisterDirect<ProcKind, ProcSymbol, nint, nint>(module, name, target, out nint slot) ? slot : 0;

    /// <summary>The slot address of a registered proc.</summary>
    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no proc of that name.</exception>
    public nint GetProc(string module, string name) => GetProcSymbol(module, name).Address;

    /// <summary>Looks up the slot address of a registered proc; false (and 0) when the module or the proc is unknown.</summary>
    public bool TryGetProc(string module, string name, out nint slotAddress) => TryGetAddress<ProcKind, ProcSymbol, nint, nint>(module, name, out slotAddress);

    /// <summary>
    /// The C ABI's lookup without the lock: the proc's slot address, or 0 when the answer must come from
    /// <see cref="GetProcSymbol(in SymbolKey, in SymbolKey)"/> (unknown, a name that needs canonicalising, or a writer was
    /// at work). Both names are the caller's bytes as they are (see <see cref="NamedSymbol.KeyIsUtf8"/>).
    /// </summary>
    internal nint FindProcAddress(byte* module, byte* name) => FindAddress<ProcKind, ProcSymbol, nint, nint>(module, name);

    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no proc of that name.</exception>
    public ProcSymbol GetProcSymbol(string module, string name) => GetSymbol<ProcKind, ProcSymbol, nint, nint>(module, name);

    internal ProcSymbol GetProcSymbol(scoped in SymbolKey module, scoped in SymbolKey name) => GetSymbol<ProcKind, ProcSymbol, nint, nint>(module, name);

    /// <summary>
    /// Registers global <paramref name="name"/> of <paramref name="module"/>: a new name gets <paramref name="size"/>
    /// zero-filled bytes (16-aligned) and <see cref="GlobalRegistration.IsNew"/> true, so the caller runs its
    /// initializer once; a known name of the same size gets its existing block and false.
    /// </summary>
    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="GlobalSizeMismatchException">The name is known with another size.</exception>
    /// <exception cref="GlobalTooLargeException">More than <see cref="HcrRuntimeOptions.MaxGlobalSize"/> bytes, or the memory is not there.</exception>
    public GlobalRegistration RegisterGlobal(string module, string name, ulong size, nint gcMarker = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        Span<byte> moduleBuffer = stackalloc byte[SymbolKey.StackBytes], nameBuffer = stackalloc byte[SymbolKey.StackBytes];
        return RegisterGlobal(SymbolKey.FromString(module, moduleBuffer), SymbolKey.FromString(name, nameBuffer), size, gcMarker);
    }

    /// <summary>
    /// <see cref="RegisterGlobal(string, string, ulong, nint)"/> by keys: the name's bytes are copied only when the global
    /// is new, and become a string only when asked for.
    /// </summary>
    internal GlobalRegistration RegisterGlobal(scoped in SymbolKey module, scoped in SymbolKey name, ulong size, nint gcMarker) =>
        Register<GlobalKind, GlobalSymbol, GlobalArgs, GlobalRegistration>(module, name, new GlobalArgs(size, gcMarker));

    /// <summary>
    /// The C ABI's registration of a global outside a start or reload, as <see cref="RegisterProcDirect"/>: a known name
    /// of the same size, or a new valid UTF-8 name; null when <see cref="RegisterGlobal(in SymbolKey, in SymbolKey, ulong, nint)"/>
    /// must answer (also for every refusal, which it reports).
    /// </summary>
    internal GlobalRegistration? RegisterGlobalDirect(byte* module, byte* name, ulong size, nint gcMarker) =>
        TryRegisterDirect<GlobalKind, GlobalSymbol, GlobalArgs, GlobalRegistration>(module, name, new GlobalArgs(size, gcMarker), out var registration) ? registration : null;

    /// <summary>The address of a registered global.</summary>
    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no global of that name.</exception>
    public nint GetGlobal(string module, string name) => GetGlobalSymbol(module, name).Address;

    /// <summary>Looks up the address of a registered global; false (and 0) when the module or the global is unknown.</summary>
    public bool TryGetGlobal(string module, string name, out nint address) =>
        TryGetAddress<GlobalKind, GlobalSymbol, GlobalArgs, GlobalRegistration>(module, name, out address);

    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no global of that name.</exception>
    public GlobalSymbol GetGlobalSymbol(string module, string name) => GetSymbol<GlobalKind, GlobalSymbol, GlobalArgs, GlobalRegistration>(module, name);

    internal GlobalSymbol GetGlobalSymbol(scoped in SymbolKey module, scoped in SymbolKey name) =>
        GetSymbol<GlobalKind, GlobalSymbol, GlobalArgs, GlobalRegistration>(module, name);

    /// <summary>The C ABI's lookup of a global without the lock, as <see cref="FindProcAddress"/>.</summary>
    internal nint FindGlobalAddress(byte* module, byte* name) => FindAddress<GlobalKind, GlobalSymbol, GlobalArgs, GlobalRegistration>(module, name);

    /// <summary>Calls every global's GC marker (what <c>hcrMarkGlobals</c> does).</summary>
    public void MarkGlobals()
    {
        lock (_lock)
        {
            foreach (var global in _modules.Values.SelectMany(m => m.GlobalTable.Values).ToList())
            {
                if (global.GcMarker != 0)
                {
                    ((delegate* unmanaged<void>)global.GcMarker)();
                }
            }
        }
    }

    // ---- handlers ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Adds a .NET handler run before (<paramref name="isBefore"/>) or after each effective reload. It is filed under the
    /// module whose <c>Init000</c> is running, else under the root, whose handlers run last. Exceptions it throws are
    /// reported as diagnostics and do not stop the reload.
    /// </summary>
    public void AddEventHandler(bool isBefore, Action handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        AddHandler(new EventHandlerEntry(isBefore, 0, 0, handler));
    }

    /// <summary>
    /// Adds a native handler, filed like <see cref="AddEventHandler(bool, Action)"/>: <paramref name="function"/> is
    /// called as <c>void (*)(void)</c> when <paramref name="environment"/> is 0, else as <c>void (*)(void* env)</c>
    /// with it (a Nim closure: its proc and its environment).
    /// </summary>
    public void AddEventHandler(bool isBefore, nint function, nint environment = 0)
    {
        if (function == 0)
        {
            throw new ArgumentException("the handler's function pointer is NULL", nameof(function));
        }

        AddHandler(new EventHandlerEntry(isBefore, function, environment, null));
    }

    internal void AddHandler(EventHandlerEntry entry)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var handlers = ModuleOrThrow(_currentModule).Handlers;
            handlers.Add(entry);
            _transaction?.OnUndo(() => handlers.Remove(entry));
        }
    }

    // ---- lifetime ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Unloads every module (their code and globals are gone), unmaps the jump table and removes the copies. Slots
    /// must not be called afterwards.
    /// </summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (_reloading)
            {
                throw new InvalidOperationException("the runtime cannot be disposed from inside a reload");
            }

            _disposed = true;

            // A window that never closes: every lookup from now on goes to the lock and finds nothing.
            BeginWrite(modules: true);
            foreach (var module in _modules.Values.ToList())
            {
                FreeModule(module, releaseSlots: false, retired: null);
            }

            // No module code runs any more: dropped globals kept for their holders go now, without waiting for threads.
            foreach (nint block in _droppedGlobals.TakeAll())
            {
                NativeMemory.AlignedFree((void*)block);
            }

            Retention.ReleaseAll();

            _modules.Clear();
            _changes?.Dispose();
            Table.Dispose();
            if (_ownsCopyDirectory)
            {
                try
                {
                    Directory.Delete(_copyDirectory, recursive: true);
                }
                catch (IOException)
                {
                    // Left for the temp cleaner; nothing is loaded from it any more.
                }
            }

            _self.Free();
        }

        lock (CurrentLock)
        {
            if (s_current == this)
            {
                Volatile.Write(ref s_current, null);
            }
        }
    }

    /// <summary>True while a start or reload runs its init passes (on the thread holding the lock).</summary>
    internal bool IsLoading => _transaction is not null;

    internal void Report(string message, bool failsLoad, bool toStandardError = true)
    {
        LastDiagnostic = message;
        if (failsLoad && _transaction is { } transaction)
        {
            transaction.Errors.Add(message);
        }

        if (Options.ReportToStandardError && toStandardError)
        {
            Console.Error.WriteLine($"hcr: {message}");
        }

        try
        {
            Diagnostic?.Invoke(this, new HcrDiagnosticEventArgs(message, failsLoad && _transaction is not null));
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"hcr: a Diagnostic handler threw {e.GetType().Name}: {e.Message}");
        }
    }

    private ModuleDescriptor ModuleOrThrow(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return _modules.TryGetValue(module, out var descriptor) ? descriptor : throw new UnknownModuleException(module);
    }

    /// <summary>
    /// By key: through the module index outside write windows; inside one (a start or reload may have added the module)
    /// by the name as a string, as the index is rebuilt only when the window closes.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private ModuleDescriptor ModuleOrThrow(scoped in SymbolKey module)
    {
        if (module.Text is { } text)
        {
            return ModuleOrThrow(text);
        }

        if (_writeDepth == 0)
        {
            return _moduleIndex.Find(module.Bytes) ?? throw new UnknownModuleException(module.ToString());
        }

        // Decoded into a stack buffer when it fits (a byte never decodes to more than one UTF-16 unit): a reload's
        // registrations make no string for their module.
        Span<char> buffer = stackalloc char[SymbolKey.StackBytes];
        var bytes = module.Bytes;
        ReadOnlySpan<char> name = bytes.Length <= buffer.Length ? buffer[..System.Text.Encoding.UTF8.GetChars(bytes, buffer)] : module.ToString();
        return _modulesByName.TryGetValue(name, out var descriptor) ? descriptor : throw new UnknownModuleException(name.ToString());
    }

    /// <summary>
    /// Opens a write window (see the class): lock-free lookups that overlap it ask again under the lock. Call under the
    /// lock; disposing the result closes it, and the outermost close rebuilds the module index when
    /// <paramref name="modules"/> says modules may have come or gone.
    /// </summary>
    private WriteWindow BeginWrite(bool modules)
    {
        if (_writeDepth++ == 0)
        {
            // A full fence: no write of the window may become visible before the counter is odd.
            Interlocked.Increment(ref _version);
        }

        _modulesChanged |= modules;
        return new WriteWindow(this);
    }

    private void EndWrite()
    {
        if (--_writeDepth > 0)
        {
            return;
        }

        if (_modulesChanged)
        {
            _modulesChanged = false;
            Volatile.Write(ref _moduleIndex, new ModuleIndex(_modules.Values));
        }

        // Release: every write of the window is visible before the counter is even again.
        Volatile.Write(ref _version, _version + 1);
    }

    private readonly struct WriteWindow(HcrRuntime runtime) : IDisposable
    {
        public void Dispose() => runtime.EndWrite();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>
    /// Frees a module's globals, releases its slots to the bad-call stub and unloads its library; with
    /// <paramref name="retired"/>, the library and the globals' memory are handed over there instead of freed.
    /// </summary>
    private void FreeModule(ModuleDescriptor module, bool releaseSlots, (List<ModuleLibrary> Libraries, List<nint> Blocks)? retired)
    {
        if (releaseSlots)
        {
            foreach (var proc in module.ProcTable.Values)
            {
                Table.Release(proc.Slot, proc.Module, proc.Name);
            }
        }

        foreach (var global in module.GlobalTable.Values)
        {
            if (retired is { } r)
            {
                r.Blocks.Add(global.Address);
            }
            else
            {
                NativeMemory.AlignedFree((void*)global.Address);
            }
        }

        module.ProcTable.Clear();
        module.GlobalTable.Clear();
        module.Handlers = [];
        if (module.Library is { } library)
        {
            if (retired is { } r)
            {
                r.Libraries.Add(library);
            }
            else
            {
                library.Close();
            }
        }

        module.Library = null;
        _changes?.Forget(module.Name);
    }
}
