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
    private Transaction? _transaction;
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
    public string ResolveModulePath(string module)
    {
        if (Options.ResolveModulePath is { } resolve)
        {
            return System.IO.Path.GetFullPath(resolve(module));
        }

        string directory = Options.ModuleDirectory ?? Directory.GetCurrentDirectory();
        if (System.IO.Path.IsPathRooted(module))
        {
            return module;
        }

        if (module.Contains('/', StringComparison.Ordinal) || module.EndsWith(".so", StringComparison.Ordinal))
        {
            return System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, module));
        }

        string plain = System.IO.Path.Combine(directory, module + ".so");
        string prefixed = System.IO.Path.Combine(directory, "lib" + module + ".so");
        return System.IO.Path.GetFullPath(!File.Exists(plain) && File.Exists(prefixed) ? prefixed : plain);
    }

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

    // ---- procs ---------------------------------------------------------------------------------------------------

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
    internal nint RegisterProc(scoped in SymbolKey module, scoped in SymbolKey name, nint target)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var descriptor = ModuleOrThrow(module);
            if (descriptor.ProcTable.Find(name) is { } proc)
            {
                _transaction?.OnUndo(UndoRepoint(proc));
                Table.Repoint(proc.Slot, target);
                proc.Target = target;
                proc.Generation = _generation;
                return proc.Address;
            }

            return AddProc(descriptor, name, target);
        }
    }

    /// <summary>A new proc (the caller holds the lock and looked first): a slot, the symbol, and its undo step in a transaction.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private nint AddProc(ModuleDescriptor descriptor, scoped in SymbolKey name, nint target)
    {
        using var write = BeginWrite(modules: false);
        string text = name.ToString();
        var proc = new ProcSymbol(descriptor.Name, name.Bytes.ToArray(), name.Hash, text, Table.Allocate(target, descriptor.Name, text), target, _generation);
        descriptor.ProcTable.Add(proc, proc.Address);
        _transaction?.OnUndo(UndoAddProc(descriptor, proc));
        return proc.Address;
    }

    /// <summary>
    /// The C ABI's registration outside a start or reload (no transaction, the module index current), by the caller's
    /// bytes as they are (see <see cref="NamedSymbol.KeyIsUtf8"/>): a known name is re-pointed; a new one, when its bytes
    /// are valid UTF-8, is added. 0 when <see cref="RegisterProc(in SymbolKey, in SymbolKey, nint)"/> must answer.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal nint RegisterProcDirect(byte* module, byte* name, nint target)
    {
        lock (_lock)
        {
            if (_writeDepth != 0 || _transaction is not null || _moduleIndex.Find(module) is not { } descriptor)
            {
                return 0;
            }

            var key = SymbolKey.Raw(name);
            var proc = descriptor.ProcTable.Find(key);
            if (proc is null)
            {
                return !key.IsEmpty && System.Text.Unicode.Utf8.IsValid(key.Bytes) ? AddProc(descriptor, key, target) : 0;
            }

            if (!proc.KeyIsUtf8)
            {
                return 0;
            }

            Table.Repoint(proc.Slot, target);
            proc.Target = target;
            proc.Generation = _generation;
            return proc.Address;
        }
    }

    // The undo actions are built by these helpers, not by lambdas in the callers: a lambda there would allocate its
    // captured state on every call, inside a start or reload or not.
    private Action UndoRepoint(ProcSymbol proc)
    {
        var (previousTarget, previousGeneration) = (proc.Target, proc.Generation);
        return () =>
        {
            Table.Repoint(proc.Slot, previousTarget);
            proc.Target = previousTarget;
            proc.Generation = previousGeneration;
        };
    }

    private Action UndoAddProc(ModuleDescriptor descriptor, ProcSymbol proc) => () =>
    {
        descriptor.ProcTable.Remove(proc);
        Table.Release(proc.Slot, proc.Module, proc.Name);
    };

    /// <summary>The slot address of a registered proc.</summary>
    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no proc of that name.</exception>
    public nint GetProc(string module, string name) => GetProcSymbol(module, name).Address;

    /// <summary>Looks up the slot address of a registered proc; false (and 0) when the module or the proc is unknown.</summary>
    public bool TryGetProc(string module, string name, out nint slotAddress)
    {
        lock (_lock)
        {
            slotAddress = _modules.TryGetValue(module, out var descriptor) && descriptor.ProcTable.TryGetValue(name, out var proc) ? proc.Address : 0;
            return slotAddress != 0;
        }
    }

    /// <summary>
    /// The C ABI's lookup without the lock: the proc's slot address, or 0 when the answer must come from
    /// <see cref="GetProcSymbol(in SymbolKey, in SymbolKey)"/> (unknown, a name that needs canonicalising, or a writer was
    /// at work). Both names are the caller's bytes as they are (see <see cref="NamedSymbol.KeyIsUtf8"/>).
    /// </summary>
    internal nint FindProcAddress(byte* module, byte* name) => FindAddress(module, name, procs: true);

    /// <summary>The lock-free lookup of either kind of symbol; <paramref name="procs"/> is a constant at each call site.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private nint FindAddress(byte* module, byte* name, bool procs)
    {
        long version = Volatile.Read(ref _version);
        if ((version & 1) != 0 || Volatile.Read(ref _moduleIndex).Find(module) is not { } descriptor)
        {
            return 0;
        }

        var key = SymbolKey.Raw(name);
        nint address = procs ? descriptor.ProcTable.FindAddress(key) : descriptor.GlobalTable.FindAddress(key);

        // The tables' loads must be done before the counter is read again, or an unchanged even counter would not mean
        // that no writer touched them while they were read. The acquire read of the counter above keeps them after it,
        // but an acquire read (this one too) does not keep earlier loads from being satisfied after it: arm64 may do
        // that, so a load-load barrier separates them (dmb ishld there; on x64, which keeps loads in order, it only stops
        // the JIT from moving loads across it). The writer's side is BeginWrite's full fence and EndWrite's release.
        Volatile.ReadBarrier();
        return Volatile.Read(ref _version) == version ? address : 0;
    }

    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no proc of that name.</exception>
    public ProcSymbol GetProcSymbol(string module, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> moduleBuffer = stackalloc byte[SymbolKey.StackBytes], nameBuffer = stackalloc byte[SymbolKey.StackBytes];
        return GetProcSymbol(SymbolKey.FromString(module, moduleBuffer), SymbolKey.FromString(name, nameBuffer));
    }

    internal ProcSymbol GetProcSymbol(scoped in SymbolKey module, scoped in SymbolKey name)
    {
        lock (_lock)
        {
            return ModuleOrThrow(module).ProcTable.Find(name)
                ?? throw new UnknownSymbolException(SymbolKind.Proc, module.ToString(), name.ToString());
        }
    }

    // ---- globals -------------------------------------------------------------------------------------------------

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
    internal GlobalRegistration RegisterGlobal(scoped in SymbolKey module, scoped in SymbolKey name, ulong size, nint gcMarker)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var descriptor = ModuleOrThrow(module);
            if (descriptor.GlobalTable.Find(name) is { } global)
            {
                if (global.Size != size)
                {
                    throw new GlobalSizeMismatchException(descriptor.Name, global.Name, global.Size, size);
                }

                _transaction?.OnUndo(UndoReregisterGlobal(global));
                global.Generation = _generation;
                global.GcMarker = gcMarker;
                return new GlobalRegistration(global.Address, IsNew: false);
            }

            return AddGlobal(descriptor, name, size, gcMarker);
        }
    }

    /// <summary>A new global (the caller holds the lock and looked first): its zeroed block, the symbol, its undo step.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private GlobalRegistration AddGlobal(ModuleDescriptor descriptor, scoped in SymbolKey name, ulong size, nint gcMarker)
    {
        if (size > Options.MaxGlobalSize)
        {
            throw new GlobalTooLargeException(descriptor.Name, name.ToString(), size, Options.MaxGlobalSize);
        }

        nint address;
        try
        {
            address = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(size, 1UL), 16);
        }
        catch (OutOfMemoryException e)
        {
            throw new GlobalTooLargeException(descriptor.Name, name.ToString(), size, Options.MaxGlobalSize, e);
        }

        NativeMemory.Clear((void*)address, (nuint)Math.Max(size, 1UL));
        using var write = BeginWrite(modules: false);
        var global = new GlobalSymbol(descriptor.Name, name.Bytes.ToArray(), name.Hash, name.Text, address, size, gcMarker, _generation);
        descriptor.GlobalTable.Add(global, address);
        var transaction = _transaction;
        transaction?.OnUndo(UndoAddGlobal(descriptor, global, transaction));
        return new GlobalRegistration(address, IsNew: true);
    }

    /// <summary>
    /// The C ABI's registration of a global outside a start or reload, as <see cref="RegisterProcDirect"/>: a known name
    /// of the same size, or a new valid UTF-8 name; null when <see cref="RegisterGlobal(in SymbolKey, in SymbolKey, ulong, nint)"/>
    /// must answer (also for every refusal, which it reports).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal GlobalRegistration? RegisterGlobalDirect(byte* module, byte* name, ulong size, nint gcMarker)
    {
        lock (_lock)
        {
            if (_writeDepth != 0 || _transaction is not null || _moduleIndex.Find(module) is not { } descriptor)
            {
                return null;
            }

            var key = SymbolKey.Raw(name);
            var global = descriptor.GlobalTable.Find(key);
            if (global is null)
            {
                return !key.IsEmpty && System.Text.Unicode.Utf8.IsValid(key.Bytes) ? AddGlobal(descriptor, key, size, gcMarker) : null;
            }

            if (!global.KeyIsUtf8 || global.Size != size)
            {
                return null;
            }

            global.Generation = _generation;
            global.GcMarker = gcMarker;
            return new GlobalRegistration(global.Address, IsNew: false);
        }
    }

    private static Action UndoReregisterGlobal(GlobalSymbol global)
    {
        var (previousGeneration, previousMarker) = (global.Generation, global.GcMarker);
        return () =>
        {
            global.Generation = previousGeneration;
            global.GcMarker = previousMarker;
        };
    }

    /// <summary>New code that was rolled back may still be running on other threads with the block's address in hand, so the block is retired, not freed.</summary>
    private static Action UndoAddGlobal(ModuleDescriptor descriptor, GlobalSymbol global, Transaction transaction) => () =>
    {
        descriptor.GlobalTable.Remove(global);
        transaction.RetiredBlocks.Add(global.Address);
    };

    /// <summary>The address of a registered global.</summary>
    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no global of that name.</exception>
    public nint GetGlobal(string module, string name) => GetGlobalSymbol(module, name).Address;

    /// <summary>Looks up the address of a registered global; false (and 0) when the module or the global is unknown.</summary>
    public bool TryGetGlobal(string module, string name, out nint address)
    {
        lock (_lock)
        {
            address = _modules.TryGetValue(module, out var descriptor) && descriptor.GlobalTable.TryGetValue(name, out var global) ? global.Address : 0;
            return address != 0;
        }
    }

    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no global of that name.</exception>
    public GlobalSymbol GetGlobalSymbol(string module, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> moduleBuffer = stackalloc byte[SymbolKey.StackBytes], nameBuffer = stackalloc byte[SymbolKey.StackBytes];
        return GetGlobalSymbol(SymbolKey.FromString(module, moduleBuffer), SymbolKey.FromString(name, nameBuffer));
    }

    internal GlobalSymbol GetGlobalSymbol(scoped in SymbolKey module, scoped in SymbolKey name)
    {
        lock (_lock)
        {
            var descriptor = ModuleOrThrow(module);
            var global = descriptor.GlobalTable.Find(name);
            if (_initModule?.Library is { } holder && holder.Module != descriptor.Name)
            {
                // Init code stores what it looks up: the library holds this address until it is replaced or looks again.
                _droppedGlobals.LookedUpAgain(holder, descriptor.Name, global?.Name ?? name.ToString());
                if (global is not null)
                {
                    (global.Holders ??= []).Add(holder);
                }
            }

            return global ?? throw new UnknownSymbolException(SymbolKind.Global, module.ToString(), name.ToString());
        }
    }

    /// <summary>The C ABI's lookup of a global without the lock, as <see cref="FindProcAddress"/>.</summary>
    internal nint FindGlobalAddress(byte* module, byte* name) => FindAddress(module, name, procs: false);

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
