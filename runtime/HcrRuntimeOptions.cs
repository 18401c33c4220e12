namespace HcrLab.Runtime;

/// <summary>How an <see cref="HcrRuntime"/> sizes its table, finds module files and where it keeps their copies.</summary>
public sealed record HcrRuntimeOptions
{
    /// <summary>The most procs (slots) that can exist at once, including removed procs' slots not yet reused.</summary>
    public int JumpTableCapacity { get; init; } = 1 << 20;

    /// <summary>What the jump table's slots hold: a direct <c>jmp rel32</c> where the target is in reach (the default), or always an indirect jump through a literal.</summary>
    public SlotForm SlotForm { get; init; } = SlotForm.Direct;

    /// <summary>Mappings the jump table is placed near (see <see cref="ExecutableMemory.Reserve"/>); null for anywhere.</summary>
    public string? JumpTableAnchor { get; init; } = ExecutableMemory.DefaultAnchor;

    /// <summary>The name of the host (root) module: it is not reloadable and its imports are given to <see cref="HcrRuntime.Start(IEnumerable{string})"/>.</summary>
    public string RootModuleName { get; init; } = "main";

    /// <summary>Where module names without a directory are looked up; the current directory when null.</summary>
    public string? ModuleDirectory { get; init; }

    /// <summary>
    /// Maps a module name (as imports list it and as the module's code passes it to the runtime) to its library file.
    /// When null: a rooted path is used as it is; a name with a '/' or ending in ".so" is taken relative to
    /// <see cref="ModuleDirectory"/>; any other name N is <c>N.so</c>, else <c>libN.so</c>, in that directory.
    /// </summary>
    public Func<string, string>? ResolveModulePath { get; init; }

    /// <summary>
    /// Where loaded copies of module files are written (each load gets a fresh file name there). When null, a new
    /// directory under the system temp directory, removed when the runtime is disposed.
    /// </summary>
    public string? CopyDirectory { get; init; }

    /// <summary>
    /// How many reloads' replaced images may wait for registered threads that have not reported a quiescent state
    /// (see <see cref="ImageRetention"/>); beyond it a reload waits up to <see cref="QuiescenceTimeout"/>, then the oldest
    /// are unloaded anyway and a diagnostic names the threads.
    /// </summary>
    public int MaxRetainedGenerations { get; init; } = 8;

    /// <summary>How long a reload beyond <see cref="MaxRetainedGenerations"/> waits for lagging threads to report before it unloads their images anyway.</summary>
    public TimeSpan QuiescenceTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The largest global a module may register, in bytes (a global is zero-filled at once, so an absurd size would
    /// otherwise commit that much memory or fail inside the allocator).
    /// </summary>
    public ulong MaxGlobalSize { get; init; } = 1UL << 30;

    /// <summary>
    /// When true (the default) every call the runtime makes into module code during a start or reload (the
    /// <c>HcrInit000</c>/<c>HcrCreateTypeInfos</c>/<c>DatInit000</c>/<c>Init000</c> passes, <c>HcrGetImportedModules</c>,
    /// <c>HcrGetSigHash</c>, native before/after handlers) runs under the fault guard: a SIGSEGV, SIGBUS, SIGILL,
    /// SIGFPE or SIGTRAP raised by the module's native code fails that start or reload with a
    /// <see cref="ModuleLoadException"/> carrying a <see cref="ModuleFault"/>, and the library that faulted stays mapped
    /// for good. The guard installs process-wide signal handlers that chain to the ones installed before. Limits: a wild
    /// write that does not fault is not seen; locks the faulting code held stay held; faults inside <c>dlopen</c>
    /// (ELF constructors) are not contained. The host's own calls are guarded only when made through
    /// <see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/>. False: no guard is installed, such a fault ends the process,
    /// and <c>CallGuarded</c> refuses.
    /// </summary>
    public bool ContainFaults { get; init; } = true;

    /// <summary>
    /// How much is first tried in a child process (<c>hcrtrial</c>) before it runs in this one (<see cref="ModuleTrial"/>):
    /// nothing (the default), each copy's load and unload (<see cref="ModuleTrial.Load"/>: constructors and destructors,
    /// which run inside <c>dlopen</c> and <c>dlclose</c> where the fault guard cannot reach), or that and the whole start
    /// or reload (<see cref="ModuleTrial.Start"/>: init code, after handlers and destructors after init, against stand-ins
    /// for the host's procs and globals). Code that ends the child is a refused load instead of the end of the host.
    /// Costs a process start per loaded copy, and one more per start or reload.
    /// </summary>
    public ModuleTrial Trial { get; init; }

    /// <summary>
    /// How many libraries whose code faulted (under the fault guard, at load or in <see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/>)
    /// the process may hold before no further library is loaded (<see cref="ModuleLoadStage.Limit"/>). Such a library is
    /// never unloaded, since its code stopped halfway: each keeps about five mappings and its memory for the process's
    /// life (the kernel's <c>vm.max_map_count</c>, 65,530 by default, would be reached after about 13,000). Counted for
    /// the whole process, including libraries an earlier runtime in it left mapped.
    /// </summary>
    public int MaxFaultedImages { get; init; } = 256;

    /// <summary>When true (the default) diagnostics and bad calls are also written to standard error, one line each.</summary>
    public bool ReportToStandardError { get; init; } = true;

    /// <summary>
    /// How changed module files are found (<see cref="Runtime.ChangeDetection"/>): by default the kernel's change reports
    /// where it offers them, so that a check with nothing changed does not examine every file.
    /// </summary>
    public ChangeDetection ChangeDetection { get; init; } = ChangeDetection.Auto;

    /// <summary>What <see cref="HcrRuntime.ResolveModulePath"/> answers under these options.</summary>
    internal string ResolvePath(string module)
    {
        if (ResolveModulePath is { } resolve)
        {
            return System.IO.Path.GetFullPath(resolve(module));
        }

        string directory = ModuleDirectory ?? Directory.GetCurrentDirectory();
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
}
