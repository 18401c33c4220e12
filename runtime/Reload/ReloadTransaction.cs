using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

public sealed unsafe partial class HcrRuntime
{
    /// <summary>
    /// One start or reload: its state (what it reached, loaded and replaced, the refusals of the init function running
    /// now, the steps that undo it) and its passes — discovery, the trial start, loading copies, the reference's
    /// initialisation passes, commit and rollback. <see cref="HcrRuntime"/> opens one under its lock and write window
    /// (<see cref="Run"/>); while it runs, registrations record their undo steps here (<see cref="OnUndo"/>). Nested in
    /// the runtime, whose modules, tables and retention it changes.
    /// </summary>
    internal sealed class ReloadTransaction
    {
        private readonly HcrRuntime _runtime;

        private ReloadTransaction(HcrRuntime runtime) => _runtime = runtime;

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

        /// <param name="runtime">The runtime, under its lock and inside a write window.</param>
        /// <param name="changed">For a reload, the modules whose files changed, with the bytes the check read; null for a start.</param>
        internal static ReloadTransaction Run(HcrRuntime runtime, Dictionary<string, ModuleFile?>? changed)
        {
            var transaction = new ReloadTransaction(runtime);
            runtime._transaction = transaction;
            transaction.RunPasses(changed);
            return transaction;
        }

        private void RunPasses(Dictionary<string, ModuleFile?>? changed)
        {
            try
            {
                Discover(_runtime._root.Imports, changed);
                _runtime.RebuildHashIndex();
                if (_runtime.Options.Trial == ModuleTrial.Start && Loaded.Count > 0)
                {
                    RunTrialStart(reload: changed is not null);
                }

                Initialise();
                Commit();
            }
            catch
            {
                Rollback();
                throw;
            }
            finally
            {
                _runtime._transaction = null;
                _runtime._currentModule = _runtime._root.Name;
                _runtime.RebuildHashIndex();
            }
        }

        /// <summary>
        /// The trial start: the passes about to run here run first in a child process, over the copies this process loaded
        /// (<see cref="TrialStart"/>); a trial the modules' code ended refuses the whole start or reload.
        /// </summary>
        private void RunTrialStart(bool reload)
        {
            var hosts = _runtime._modules.Values.Where(m => !m.IsLoaded).ToList();
            var plan = new TrialPlan(
                _runtime._generation,
                _runtime.Options.MaxGlobalSize,
                reload,
                _runtime._start.SystemModule,
                [.. Order.Select(m => (m.Name, m.Library!.CopyPath, Loaded.Contains(m)))],
                [.. hosts.SelectMany(m => m.ProcTable.Values.Select(p => (m.Name, p.Key)))],
                [.. hosts.SelectMany(m => m.GlobalTable.Values.Select(g => (m.Name, g.Key, g.Size)))]);
            if (TrialStart.Problem(plan) is { } problem)
            {
                _runtime._modules.TryGetValue(problem.Module, out var module);
                // Its destructors may be what ended the trial: this process keeps the copy mapped and never runs them.
                module?.Library?.MarkFaulted();
                throw new ModuleLoadException(problem.Module, module?.Path, ModuleLoadStage.Trial, problem.Cause);
            }
        }

        /// <summary>Depth-first in import order, dependencies first; each module once; unchanged modules are walked, not reloaded.</summary>
        private void Discover(IReadOnlyList<string> imports, Dictionary<string, ModuleFile?>? changed)
        {
            foreach (string name in imports)
            {
                if (!Visited.Add(name))
                {
                    continue;
                }

                ModuleFile? read = null;
                if (_runtime._modules.TryGetValue(name, out var existing) && existing.IsLoaded && !(changed?.TryGetValue(name, out read) ?? false))
                {
                    Discover(existing.Imports, changed);
                    Order.Add(existing);
                    continue;
                }

                var module = Load(name, read);
                Discover(module.Imports, changed);
                Order.Add(module);
                Loaded.Add(module);
            }
        }

        /// <summary>Loads a fresh copy of a module's library; the old one, if any, stays loaded (and running) until commit.</summary>
        /// <param name="name">The module.</param>
        /// <param name="read">Its file as the change check read it, or null.</param>
        private ModuleDescriptor Load(string name, ModuleFile? read)
        {
            if (name == _runtime._root.Name)
            {
                throw new ModuleLoadException(name, null, ModuleLoadStage.Copy, "the root module is the host and cannot be imported");
            }

            string path = _runtime.ResolveModulePath(name);

            // Before the file is first looked at, so that no change after this look goes unreported.
            _runtime._changes?.Watch(name, path);
            string copy = System.IO.Path.Combine(_runtime._copyDirectory,
                $"{System.IO.Path.GetFileNameWithoutExtension(path)}.g{_runtime._generation}.{Interlocked.Increment(ref _runtime._copySequence)}.so");
            var library = ModuleLibrary.Load(name, path, copy, _runtime.Options.ContainFaults, _runtime.Options.Trial != ModuleTrial.None, read?.Path == path ? read : null, _runtime.Options.MaxFaultedImages);

            if (!_runtime._modules.TryGetValue(name, out var module))
            {
                module = new ModuleDescriptor(name, isRoot: false, _runtime._lock);
                _runtime._modules.Add(name, module);
                OnUndo(() => _runtime._modules.Remove(name));
            }

            var (oldLibrary, oldImports, oldHandlers, oldGeneration) = (module.Library, module.Imports, module.Handlers, module.Generation);
            var target = module;
            OnUndo(() =>
            {
                // Slots may have pointed into the new code before the failure: retired, not closed, like a replaced image.
                RetiredLibraries.Add(library);
                (target.Library, target.Imports, target.Handlers, target.Generation) = (oldLibrary, oldImports, oldHandlers, oldGeneration);
            });

            // The new code registers its handlers again in Init000; the old code's are kept aside for a rollback.
            (module.Library, module.Imports, module.Handlers, module.Generation) = (library, library.Imports, [], _runtime._generation);
            if (oldLibrary is not null)
            {
                Replaced.Add(oldLibrary);
            }

            return module;
        }

        /// <summary>
        /// The reference's passes: HcrInit000 and HcrCreateTypeInfos of new code; the system module's DatInit000 and Init000
        /// (changed or not); DatInit000 of every other reachable module; the host's data-init; Init000 of the other new code.
        /// </summary>
        private void Initialise()
        {
            nint handle = _runtime._start.ModuleHandle != 0 ? _runtime._start.ModuleHandle : _runtime.Handle;
            nint getProcAddr = _runtime._start.ModuleProcAddressGetter != 0 ? _runtime._start.ModuleProcAddressGetter : ModuleAbi.ProcAddressGetter;
            foreach (var module in Loaded)
            {
                var library = module.Library!;
                RunModuleCode(module, "HcrInit000", (nint)library.HcrInit000, handle, getProcAddr);
                if (library.HcrCreateTypeInfos != null)
                {
                    RunModuleCode(module, "HcrCreateTypeInfos", (nint)library.HcrCreateTypeInfos);
                }
            }

            var system = Order.FirstOrDefault(m => m.Name == _runtime._start.SystemModule);
            if (system is not null)
            {
                if (!Loaded.Contains(system))
                {
                    // Its Init000 runs again and registers its handlers again: keep one copy of each.
                    var handlers = system.Handlers;
                    system.Handlers = [];
                    OnUndo(() => system.Handlers = handlers);
                }

                RunModuleCode(system, "DatInit000", (nint)system.Library!.DatInit000);
                RunModuleInit(system);
            }

            foreach (var module in Order.Where(m => m != system))
            {
                RunModuleCode(module, "DatInit000", (nint)module.Library!.DatInit000);
            }

            if (_runtime._start.MainDataInit != 0)
            {
                RunInit(_runtime._root, "the host's data-init", () => ((delegate* unmanaged<void>)_runtime._start.MainDataInit)());
            }

            foreach (var module in Loaded.Where(m => m != system))
            {
                RunModuleInit(module);
            }
        }

        /// <summary>Init000, with handlers filed under the module.</summary>
        private void RunModuleInit(ModuleDescriptor module)
        {
            var library = module.Library!;
            _runtime._currentModule = module.Name;
            try
            {
                RunModuleCode(module, "Init000", (nint)library.Init000);
            }
            finally
            {
                _runtime._currentModule = _runtime._root.Name;
            }
        }

        /// <summary>
        /// An init function of the module's library, <c>fn(a0, a1)</c>: under the fault guard unless it is off. A function
        /// of fewer arguments is called the same way (on x86-64 the extra argument registers are ignored).
        /// </summary>
        private void RunModuleCode(ModuleDescriptor module, string function, nint fn, nint a0 = 0, nint a1 = 0)
        {
            var outer = _runtime._initModule;
            _runtime._initModule = module;
            try
            {
                RunModuleCodeAs(module, function, fn, a0, a1);
            }
            finally
            {
                _runtime._initModule = outer;
            }
        }

        private void RunModuleCodeAs(ModuleDescriptor module, string function, nint fn, nint a0, nint a1)
        {
            if (!_runtime.Options.ContainFaults)
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
            int before = Errors.Count;
            call();
            if (Errors.Count > before)
            {
                throw new ModuleLoadException(module.Name, module.Path, ModuleLoadStage.Init,
                    $"{function}: {string.Join("; ", Errors.Skip(before))}");
            }
        }

        /// <summary>
        /// Drops what new code no longer registered (its slots go to the bad-call stub) and retires the replaced libraries and
        /// dropped globals' memory: they are freed once no registered thread can be running the old code.
        /// </summary>
        private void Commit()
        {
            foreach (var module in Loaded)
            {
                _runtime._changes?.Loaded(module.Name);
                foreach (var proc in module.ProcTable.Values.Where(p => p.Generation < _runtime._generation).ToList())
                {
                    module.ProcTable.Remove(proc.Name);
                    _runtime.Table.Release(proc.Slot, proc.Module, proc.Name);
                }

                foreach (var global in module.GlobalTable.Values.Where(g => g.Generation < _runtime._generation).ToList())
                {
                    module.GlobalTable.Remove(global.Name);
                    if (global.Holders?.Where(_runtime.IsLoadedLibrary).ToList() is { Count: > 0 } holders)
                    {
                        // An unchanged importer looked it up (this reload's DatInit000, or before) and keeps the address.
                        _runtime._droppedGlobals.Keep(global, holders);
                        string names = string.Join(", ", holders.Select(h => $"'{h.Module}'"));
                        _runtime.Report($"global '{global.Name}' of module '{global.Module}' was dropped by this reload, but module(s) {names} looked it up and still hold its address; " +
                            "its memory stays allocated (no longer registered) until they are reloaded or unloaded, or look it up again", failsLoad: false);
                    }
                    else
                    {
                        RetiredBlocks.Add(global.Address);
                    }
                }
            }

            RetiredLibraries.AddRange(Replaced);
            _runtime.Retention.Retire(RetiredLibraries, RetiredBlocks);
        }

        private void Rollback()
        {
            RetiredLibraries.Clear();
            RetiredBlocks.Clear();
            for (int i = Undo.Count - 1; i >= 0; i--)
            {
                Undo[i]();
            }

            _runtime.Retention.Retire(RetiredLibraries, RetiredBlocks);
        }

    }
}
