using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>Start, reload and their transaction: discovery, the initialisation passes, handlers, commit and rollback.</summary>
public sealed unsafe partial class HcrRuntime
{
    /// <summary>
    /// Loads the root's imports and everything they import, depth-first, dependencies first, and initialises them in
    /// the reference's order. On failure nothing stays loaded and the runtime can be started again.
    /// </summary>
    /// <param name="imports">The root's imports: module names (see <see cref="ResolveModulePath"/>).</param>
    /// <exception cref="ModuleLoadException">A module failed to load or to initialise.</exception>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public ReloadResult Start(params IEnumerable<string> imports) => Start(new HcrStartOptions(), imports);

    /// <summary>
    /// Starts like <see cref="Start(IEnumerable{string})"/> for a host of the reference's kind (<c>hcrInit</c>): the host
    /// names its own module, a system module initialised first, its own data-init, and what modules' <c>HcrInit000</c>
    /// is given.
    /// </summary>
    /// <exception cref="ModuleLoadException">A module failed to load or to initialise.</exception>
    /// <exception cref="InvalidOperationException">
    /// Already started, or the host names a root module while symbols are registered under the default root.
    /// </exception>
    public ReloadResult Start(HcrStartOptions start, params IEnumerable<string> imports)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(imports);
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_started || _reloading)
            {
                throw new InvalidOperationException("the runtime is already started; call PerformCodeReload to pick up changes");
            }

            // Lock-free lookups wait for the start, as lookups under the lock did (see HcrRuntime's write windows).
            using var write = BeginWrite(modules: true);

            if (start.RootModule is { Length: > 0 } rootName && rootName != _root.Name)
            {
                AdoptRoot(rootName);
            }

            _start = start;
            var previousImports = _root.Imports;
            _root.Imports = [.. imports];
            _reloading = true;
            try
            {
                var transaction = RunTransaction(changed: null);
                _started = true;
                var unloaded = UnloadUnreachable(transaction.Visited);
                return new ReloadResult(true, _generation, [.. transaction.Loaded.Select(m => m.Name)], unloaded);
            }
            catch
            {
                _root.Imports = previousImports;
                throw;
            }
            finally
            {
                _reloading = false;
            }
        }
    }

    /// <summary>
    /// Makes the module the host added under its own name the root (Nim's main module registers symbols under its name
    /// before <c>hcrInit</c> says it is the main one). The default root must still be empty: its symbols would otherwise
    /// carry a module name that no longer exists.
    /// </summary>
    private void AdoptRoot(string rootName)
    {
        if (_root.ProcTable.Count > 0 || _root.GlobalTable.Count > 0 || _root.Handlers.Count > 0)
        {
            throw new InvalidOperationException(
                $"the host names its module '{rootName}', but symbols or handlers are already registered under the default root '{_root.Name}'; register them under '{rootName}' (hcrAddModule first)");
        }

        if (_modules.TryGetValue(rootName, out var named) && named.IsLoaded)
        {
            throw new InvalidOperationException($"'{rootName}' is a loaded module and cannot be the host's own module");
        }

        if (named is null)
        {
            named = new ModuleDescriptor(rootName, isRoot: true, _lock);
            _modules.Add(rootName, named);
        }

        named.IsRoot = true;
        _modules.Remove(_root.Name);
        _root = named;
        _currentModule = rootName;
    }

    /// <summary>True when some loaded module's file now holds other bytes than the copy that was loaded.</summary>
    public bool ReloadNeeded()
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            _changes?.Drain();
            return _modules.Values.Any(IsChangedOnDisk);
        }
    }

    /// <summary>
    /// True when <paramref name="moduleOrHash"/> (a module name, or a signature hash as <c>HcrGetSigHash</c> returns it)
    /// was reloaded by the reload whose after-handlers are running now, or when its file has changed since it was loaded.
    /// </summary>
    /// <exception cref="UnknownModuleException">Neither a module name nor a loaded module's hash.</exception>
    public bool HasModuleChanged(string moduleOrHash)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (!_modules.TryGetValue(moduleOrHash, out var module)
                && !(_moduleByHash.TryGetValue(moduleOrHash, out string? name) && _modules.TryGetValue(name, out module)))
            {
                throw new UnknownModuleException(moduleOrHash);
            }

            if (_reloadedNow?.Contains(module.Name) ?? false)
            {
                return true;
            }

            _changes?.Drain();
            return IsChangedOnDisk(module);
        }
    }

    /// <summary>
    /// Reloads every changed module. With nothing changed it does nothing at all (no handler, no new generation).
    /// Otherwise: generation + 1; the before handlers (the old code's) leaves first, root last; changed modules are
    /// loaded from fresh copies and the initialisation passes run; the after handlers (a reloaded module's are the ones
    /// its new code registered) in the same order, with <see cref="HasModuleChanged"/> true for reloaded modules; last,
    /// modules no longer reachable from the root are unloaded and their globals freed.
    /// </summary>
    /// <exception cref="ModuleLoadException">
    /// A module failed to load or to initialise: the reload is undone (slots point at the previous code again, the new
    /// copies are unloaded, the generation is back), the old code's after handlers run, and the old code keeps running.
    /// </exception>
    /// <exception cref="InvalidOperationException">Not started, or called from inside a reload.</exception>
    public ReloadResult PerformCodeReload()
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (!_started)
            {
                throw new InvalidOperationException("the runtime is not started; call Start first");
            }

            if (_reloading)
            {
                throw new InvalidOperationException("a reload is already running (a handler or an init function asked for another)");
            }

            // Each module's file is checked once per reload: the walk below reloads exactly these.
            _changes?.Drain();
            var changed = new Dictionary<string, ModuleFile?>(StringComparer.Ordinal);
            foreach (var module in _modules.Values)
            {
                if (IsChangedOnDisk(module, out var file))
                {
                    changed.Add(module.Name, file);
                }
            }

            if (changed.Count == 0)
            {
                return ReloadResult.NoChange(_generation);
            }

            using var write = BeginWrite(modules: true);

            _reloading = true;
            long previousGeneration = _generation;
            try
            {
                _generation++;
                if (RunHandlers(isBefore: true) is { } handlerFault)
                {
                    // The old code faulted before anything was loaded: nothing to undo but the generation, and the
                    // after handlers pair the before handlers that ran, as after any failed reload.
                    _generation = previousGeneration;
                    RunHandlers(isBefore: false);
                    throw handlerFault;
                }

                Transaction transaction;
                try
                {
                    transaction = RunTransaction(changed);
                }
                catch
                {
                    _generation = previousGeneration;
                    RunHandlers(isBefore: false);
                    throw;
                }

                IReadOnlyList<string> unloaded;
                _reloadedNow = [.. transaction.Loaded.Select(m => m.Name)];
                try
                {
                    RunHandlers(isBefore: false);
                }
                finally
                {
                    _reloadedNow = null;
                    unloaded = UnloadUnreachable(transaction.Visited);
                }

                return new ReloadResult(true, _generation, [.. transaction.Loaded.Select(m => m.Name)], unloaded);
            }
            finally
            {
                _reloading = false;
            }
        }
    }

    /// <summary>Examines the module's file unless change reports say it has not changed since it was last examined (drain them first).</summary>
    private bool IsChangedOnDisk(ModuleDescriptor module) => IsChangedOnDisk(module, out _);

    /// <param name="module">The module.</param>
    /// <param name="file">When changed, the file as it was read: the reload loads these bytes.</param>
    private bool IsChangedOnDisk(ModuleDescriptor module, out ModuleFile? file)
    {
        file = null;
        if (module.Library is not { } library || _changes?.MayHaveChanged(module.Name, library.OriginalPath) == false)
        {
            return false;
        }

        _fileExaminations++;
        // A reported file is hashed: a write within the kernel's clock tick of the previous one leaves the same stamp.
        bool wasMissing = library.Fingerprint.FileMissing;
        bool differs = library.Fingerprint.DiffersFrom(library.OriginalPath, trustStat: _changes is null, out file);
        if (library.Fingerprint.FileMissing && !wasMissing)
        {
            // Once per disappearance: a check that found the change, then a reload that found nothing, must not be silent.
            Report($"module '{module.Name}': its file {library.OriginalPath} is gone (deleted, or being rebuilt); the loaded version keeps running, " +
                "and a file put there later is loaded by the next reload", failsLoad: false);
        }

        _changes?.Examined(module.Name, differs);
        return differs;
    }

    /// <param name="changed">For a reload, the modules whose files changed, with the bytes the check read; null for a start.</param>
    private Transaction RunTransaction(Dictionary<string, ModuleFile?>? changed)
    {
        var transaction = new Transaction();
        _transaction = transaction;
        try
        {
            Discover(_root.Imports, transaction, changed);
            RebuildHashIndex();
            if (Options.Trial == ModuleTrial.Start && transaction.Loaded.Count > 0)
            {
                RunTrialStart(transaction, reload: changed is not null);
            }

            Initialise(transaction);
            Commit(transaction);
            return transaction;
        }
        catch
        {
            Rollback(transaction);
            throw;
        }
        finally
        {
            _transaction = null;
            _currentModule = _root.Name;
            RebuildHashIndex();
        }
    }

    /// <summary>
    /// The trial start: the passes about to run here run first in a child process, over the copies this process loaded
    /// (<see cref="TrialStart"/>); a trial the modules' code ended refuses the whole start or reload.
    /// </summary>
    private void RunTrialStart(Transaction transaction, bool reload)
    {
        var hosts = _modules.Values.Where(m => !m.IsLoaded).ToList();
        var plan = new TrialPlan(
            _generation,
            Options.MaxGlobalSize,
            reload,
            _start.SystemModule,
            [.. transaction.Order.Select(m => (m.Name, m.Library!.CopyPath, transaction.Loaded.Contains(m)))],
            [.. hosts.SelectMany(m => m.ProcTable.Values.Select(p => (m.Name, p.Key)))],
            [.. hosts.SelectMany(m => m.GlobalTable.Values.Select(g => (m.Name, g.Key, g.Size)))]);
        if (TrialStart.Problem(plan) is { } problem)
        {
            _modules.TryGetValue(problem.Module, out var module);
            // Its destructors may be what ended the trial: this process keeps the copy mapped and never runs them.
            module?.Library?.MarkFaulted();
            throw new ModuleLoadException(problem.Module, module?.Path, ModuleLoadStage.Trial, problem.Cause);
        }
    }

    /// <summary>Depth-first in import order, dependencies first; each module once; unchanged modules are walked, not reloaded.</summary>
    private void Discover(IReadOnlyList<string> imports, Transaction transaction, Dictionary<string, ModuleFile?>? changed)
    {
        foreach (string name in imports)
        {
            if (!transaction.Visited.Add(name))
            {
                continue;
            }

            ModuleFile? read = null;
            if (_modules.TryGetValue(name, out var existing) && existing.IsLoaded && !(changed?.TryGetValue(name, out read) ?? false))
            {
                Discover(existing.Imports, transaction, changed);
                transaction.Order.Add(existing);
                continue;
            }

            var module = Load(name, transaction, read);
            Discover(module.Imports, transaction, changed);
            transaction.Order.Add(module);
            transaction.Loaded.Add(module);
        }
    }

    /// <summary>Loads a fresh copy of a module's library; the old one, if any, stays loaded (and running) until commit.</summary>
    /// <param name="name">The module.</param>
    /// <param name="transaction">The start or reload.</param>
    /// <param name="read">Its file as the change check read it, or null.</param>
    private ModuleDescriptor Load(string name, Transaction transaction, ModuleFile? read)
    {
        if (name == _root.Name)
        {
            throw new ModuleLoadException(name, null, ModuleLoadStage.Copy, "the root module is the host and cannot be imported");
        }

        string path = ResolveModulePath(name);

        // Before the file is first looked at, so that no change after this look goes unreported.
        _changes?.Watch(name, path);
        string copy = System.IO.Path.Combine(_copyDirectory,
            $"{System.IO.Path.GetFileNameWithoutExtension(path)}.g{_generation}.{Interlocked.Increment(ref _copySequence)}.so");
        var library = ModuleLibrary.Load(name, path, copy, Options.ContainFaults, Options.Trial != ModuleTrial.None, read?.Path == path ? read : null, Options.MaxFaultedImages);

        if (!_modules.TryGetValue(name, out var module))
        {
            module = new ModuleDescriptor(name, isRoot: false, _lock);
            _modules.Add(name, module);
            transaction.OnUndo(() => _modules.Remove(name));
        }

        var (oldLibrary, oldImports, oldHandlers, oldGeneration) = (module.Library, module.Imports, module.Handlers, module.Generation);
        var target = module;
        transaction.OnUndo(() =>
        {
            // Slots may have pointed into the new code before the failure: retired, not closed, like a replaced image.
            transaction.RetiredLibraries.Add(library);
            (target.Library, target.Imports, target.Handlers, target.Generation) = (oldLibrary, oldImports, oldHandlers, oldGeneration);
        });

        // The new code registers its handlers again in Init000; the old code's are kept aside for a rollback.
        (module.Library, module.Imports, module.Handlers, module.Generation) = (library, library.Imports, [], _generation);
        if (oldLibrary is not null)
        {
            transaction.Replaced.Add(oldLibrary);
        }

        return module;
    }

    /// <summary>
    /// The reference's passes: HcrInit000 and HcrCreateTypeInfos of new code; the system module's DatInit000 and Init000
    /// (changed or not); DatInit000 of every other reachable module; the host's data-init; Init000 of the other new code.
    /// </summary>
    private void Initialise(Transaction transaction)
    {
        nint handle = _start.ModuleHandle != 0 ? _start.ModuleHandle : Handle;
        nint getProcAddr = _start.ModuleProcAddressGetter != 0 ? _start.ModuleProcAddressGetter : ModuleAbi.ProcAddressGetter;
        foreach (var module in transaction.Loaded)
        {
            var library = module.Library!;
            RunModuleCode(module, "HcrInit000", (nint)library.HcrInit000, handle, getProcAddr);
            if (library.HcrCreateTypeInfos != null)
            {
                RunModuleCode(module, "HcrCreateTypeInfos", (nint)library.HcrCreateTypeInfos);
            }
        }

        var system = transaction.Order.FirstOrDefault(m => m.Name == _start.SystemModule);
        if (system is not null)
        {
            if (!transaction.Loaded.Contains(system))
            {
                // Its Init000 runs again and registers its handlers again: keep one copy of each.
                var handlers = system.Handlers;
                system.Handlers = [];
                transaction.OnUndo(() => system.Handlers = handlers);
            }

            RunModuleCode(system, "DatInit000", (nint)system.Library!.DatInit000);
            RunModuleInit(system);
        }

        foreach (var module in transaction.Order.Where(m => m != system))
        {
            RunModuleCode(module, "DatInit000", (nint)module.Library!.DatInit000);
        }

        if (_start.MainDataInit != 0)
        {
            RunInit(_root, "the host's data-init", () => ((delegate* unmanaged<void>)_start.MainDataInit)());
        }

        foreach (var module in transaction.Loaded.Where(m => m != system))
        {
            RunModuleInit(module);
        }
    }

    /// <summary>Init000, with handlers filed under the module.</summary>
    private void RunModuleInit(ModuleDescriptor module)
    {
        var library = module.Library!;
        _currentModule = module.Name;
        try
        {
            RunModuleCode(module, "Init000", (nint)library.Init000);
        }
        finally
        {
            _currentModule = _root.Name;
        }
    }

    /// <summary>
    /// An init function of the module's library, <c>fn(a0, a1)</c>: under the fault guard unless it is off. A function
    /// of fewer arguments is called the same way (on x86-64 the extra argument registers are ignored).
    /// </summary>
    private void RunModuleCode(ModuleDescriptor module, string function, nint fn, nint a0 = 0, nint a1 = 0)
    {
        var outer = _initModule;
        _initModule = module;
        try
        {
            RunModuleCodeAs(module, function, fn, a0, a1);
        }
        finally
        {
            _initModule = outer;
        }
    }

    private void RunModuleCodeAs(ModuleDescriptor module, string function, nint fn, nint a0, nint a1)
    {
        if (!Options.ContainFaults)
        {
            RunInit(module, function, () => ((delegate* unmanaged<nint, nint, void>)fn)(a0, a1));
            return;
        }

        RunInit(module, function, () =>
        {
            ModuleFault? fault;
            try
            {
                fault = FaultGuard.Call(function, fn, a0, a1, out _);
            }
            catch (Exception e) when (e is not HcrException)
            {
                // The .NET runtime threw through the module's frames (the fuzz found a flipped bit whose wild call reached
                // a reverse P/Invoke stub wrongly): the module's code stopped halfway, as after a fault.
                module.Library!.MarkFaulted();
                throw new ModuleLoadException(module.Name, module.Path, ModuleLoadStage.Init,
                    $"{function}: {e.GetType().Name} came out of the module's code: {e.Message}; {ModuleLoadException.KeptMapped}", e);
            }

            if (fault is not null)
            {
                module.Library!.MarkFaulted();
                throw ModuleLoadException.Faulted(module.Name, module.Path, ModuleLoadStage.Init, fault);
            }
        });
    }

    private void RunInit(ModuleDescriptor module, string function, Action call)
    {
        var transaction = _transaction!;
        int before = transaction.Errors.Count;
        call();
        if (transaction.Errors.Count > before)
        {
            throw new ModuleLoadException(module.Name, module.Path, ModuleLoadStage.Init,
                $"{function}: {string.Join("; ", transaction.Errors.Skip(before))}");
        }
    }

    /// <summary>
    /// Drops what new code no longer registered (its slots go to the bad-call stub) and retires the replaced libraries and
    /// dropped globals' memory: they are freed once no registered thread can be running the old code.
    /// </summary>
    private void Commit(Transaction transaction)
    {
        foreach (var module in transaction.Loaded)
        {
            _changes?.Loaded(module.Name);
            foreach (var proc in module.ProcTable.Values.Where(p => p.Generation < _generation).ToList())
            {
                module.ProcTable.Remove(proc.Name);
                Table.Release(proc.Slot, proc.Module, proc.Name);
            }

            foreach (var global in module.GlobalTable.Values.Where(g => g.Generation < _generation).ToList())
            {
                module.GlobalTable.Remove(global.Name);
                if (global.Holders?.Where(IsLoadedLibrary).ToList() is { Count: > 0 } holders)
                {
                    // An unchanged importer looked it up (this reload's DatInit000, or before) and keeps the address.
                    _droppedGlobals.Keep(global, holders);
                    string names = string.Join(", ", holders.Select(h => $"'{h.Module}'"));
                    Report($"global '{global.Name}' of module '{global.Module}' was dropped by this reload, but module(s) {names} looked it up and still hold its address; " +
                        "its memory stays allocated (no longer registered) until they are reloaded or unloaded, or look it up again", failsLoad: false);
                }
                else
                {
                    transaction.RetiredBlocks.Add(global.Address);
                }
            }
        }

        transaction.RetiredLibraries.AddRange(transaction.Replaced);
        Retention.Retire(transaction.RetiredLibraries, transaction.RetiredBlocks);
    }

    private void Rollback(Transaction transaction)
    {
        transaction.RetiredLibraries.Clear();
        transaction.RetiredBlocks.Clear();
        for (int i = transaction.Undo.Count - 1; i >= 0; i--)
        {
            transaction.Undo[i]();
        }

        Retention.Retire(transaction.RetiredLibraries, transaction.RetiredBlocks);
    }

    private IReadOnlyList<string> UnloadUnreachable(HashSet<string> reachable)
    {
        var unreachable = ImportersFirst(_modules.Values.Where(m => m.IsLoaded && !reachable.Contains(m.Name)).ToList());
        var retired = (Libraries: new List<ModuleLibrary>(), Blocks: new List<nint>());
        foreach (var module in unreachable)
        {
            FreeModule(module, releaseSlots: true, retired);
            _modules.Remove(module.Name);
        }

        // Dropped globals whose last holder was reloaded or unloaded by now, or looked them up again.
        retired.Blocks.AddRange(_droppedGlobals.TakeUnheld(IsLoadedLibrary));
        Retention.Retire(retired.Libraries, retired.Blocks);

        RebuildHashIndex();
        return [.. unreachable.Select(m => m.Name)];
    }

    /// <summary>
    /// <paramref name="modules"/> importers first: the reverse of the order they would load in (depth-first post-order
    /// over their imports among themselves, from those none of them imports, in name order), so that a module's
    /// destructors run while what it imports is still loaded.
    /// </summary>
    private static List<ModuleDescriptor> ImportersFirst(List<ModuleDescriptor> modules)
    {
        var byName = modules.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var imported = modules.SelectMany(m => m.Imports).Where(byName.ContainsKey).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var loadOrder = new List<ModuleDescriptor>();
        var byNameOrder = modules.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();

        // Tops first; then whatever only a cycle reaches.
        foreach (var module in byNameOrder.Where(m => !imported.Contains(m.Name)).Concat(byNameOrder))
        {
            Visit(module);
        }

        loadOrder.Reverse();
        return loadOrder;

        void Visit(ModuleDescriptor module)
        {
            if (!seen.Add(module.Name))
            {
                return;
            }

            foreach (string import in module.Imports)
            {
                if (byName.TryGetValue(import, out var dependency))
                {
                    Visit(dependency);
                }
            }

            loadOrder.Add(module);
        }
    }

    /// <summary>True when <paramref name="library"/> is the library its module has loaded now (not replaced, not unloaded).</summary>
    private bool IsLoadedLibrary(ModuleLibrary library) => _modules.TryGetValue(library.Module, out var module) && module.Library == library;

    /// <summary>
    /// Each module's handlers once, in depth-first post-order from the root: leaves first, the root last. A native
    /// handler runs under the fault guard (unless it is off): a fault in a before handler stops the before handlers and
    /// is returned as the reload's error; a fault in an after handler, like an exception, is a diagnostic (the reload
    /// has committed by then). Either way the handler that faulted is dropped.
    /// </summary>
    private ModuleLoadException? RunHandlers(bool isBefore)
    {
        const string DroppedHandler = "the handler is dropped and will not run again";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<ModuleDescriptor>();
        string kind = isBefore ? "before" : "after", function = isBefore ? "a before-reload handler" : "an after-reload handler";
        Walk(_root);
        foreach (var module in order)
        {
            foreach (var handler in module.Handlers.Where(h => h.IsBefore == isBefore).ToList())
            {
                try
                {
                    if (handler.Managed is not null || !Options.ContainFaults)
                    {
                        handler.Invoke();
                    }
                    else if (FaultGuard.Call(function, handler.Function, handler.Environment, 0, out _) is { } fault)
                    {
                        // Dropped, or a handler that always faults would refuse every reload, the one that fixes it too.
                        module.Library?.MarkFaulted();
                        module.Handlers.Remove(handler);
                        var error = ModuleLoadException.Faulted(module.Name, module.Path, ModuleLoadStage.Handler, fault, DroppedHandler);
                        if (isBefore)
                        {
                            return error;
                        }

                        Report($"module '{module.Name}': {error.Cause}", failsLoad: false);
                    }
                }
                catch (Exception e)
                {
                    Report($"a {kind}-reload handler of module '{module.Name}' threw {e.GetType().Name}: {e.Message}", failsLoad: false);
                }
            }
        }

        return null;

        void Walk(ModuleDescriptor module)
        {
            if (!seen.Add(module.Name))
            {
                return;
            }

            foreach (string import in module.Imports)
            {
                if (_modules.TryGetValue(import, out var imported))
                {
                    Walk(imported);
                }
            }

            order.Add(module);
        }
    }

    private void RebuildHashIndex()
    {
        _moduleByHash.Clear();
        foreach (var module in _modules.Values)
        {
            if (module.Library is { SignatureHash.Length: > 0 } library)
            {
                _moduleByHash[library.SignatureHash] = module.Name;
            }
        }
    }

    /// <summary>What a start or reload changed, so a failure can put everything back.</summary>
    internal sealed class Transaction
    {
        public List<Action> Undo { get; } = [];

        /// <summary>Refusals of C ABI calls made while the current init function ran.</summary>
        public List<string> Errors { get; } = [];

        /// <summary>Every module reached from the root.</summary>
        public HashSet<string> Visited { get; } = new(StringComparer.Ordinal);

        /// <summary>Reached modules in depth-first post-order.</summary>
        public List<ModuleDescriptor> Order { get; } = [];

        /// <summary>Modules loaded now (new, or changed on disk), in post-order.</summary>
        public List<ModuleDescriptor> Loaded { get; } = [];

        /// <summary>Old libraries of reloaded modules: retired at commit, kept (and running) on rollback.</summary>
        public List<ModuleLibrary> Replaced { get; } = [];

        /// <summary>Libraries and global memory to retire at commit or after a rollback (see <see cref="ImageRetention"/>).</summary>
        public List<ModuleLibrary> RetiredLibraries { get; } = [];

        public List<nint> RetiredBlocks { get; } = [];

        public void OnUndo(Action undo) => Undo.Add(undo);
    }
}
