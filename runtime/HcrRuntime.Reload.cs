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
                var transaction = ReloadTransaction.Run(this, changed: null);
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

                ReloadTransaction transaction;
                try
                {
                    transaction = ReloadTransaction.Run(this, changed);
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

    private IReadOnlyList<string> UnloadUnreachable(HashSet<string> reachable)
    {
        var unreachable = ModuleOrder.ImportersFirst(_modules.Values.Where(m => m.IsLoaded && !reachable.Contains(m.Name)).ToList());
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
        var order = ModuleOrder.PostOrder([_root], _modules.GetValueOrDefault);
        string kind = isBefore ? "before" : "after", function = isBefore ? "a before-reload handler" : "an after-reload handler";
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
}
