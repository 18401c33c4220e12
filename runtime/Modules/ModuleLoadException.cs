namespace HcrLab.Runtime;

/// <summary>The step at which loading or initialising a module failed.</summary>
public enum ModuleLoadStage
{
    /// <summary>The library file could not be found or copied.</summary>
    Copy,

    /// <summary>The file is not an ELF shared library of this process's CPU whose segments lie inside it (empty, truncated, not ELF, ...), or not a regular file, or larger than 1 GiB; checked before the loader sees it (the last two before it is opened).</summary>
    Format,

    /// <summary>The dynamic loader refused the copy (not an ELF file, wrong architecture, unresolved symbol, ...).</summary>
    Load,

    /// <summary>A function of the module ABI is not exported.</summary>
    MissingExport,

    /// <summary>The module's import list or signature hash could not be read.</summary>
    Metadata,

    /// <summary>The module's initialisation made a call the runtime refused (e.g. a global registered with a new size), reported failure (<c>hcrFailInit</c>), or faulted (<see cref="ModuleLoadException.Fault"/>).</summary>
    Init,

    /// <summary>A before-reload handler of the module faulted (<see cref="ModuleLoadException.Fault"/>): the reload did not begin.</summary>
    Handler,

    /// <summary>
    /// The trial start (<see cref="ModuleTrial.Start"/>) ran the start or reload in a child process first, and the
    /// modules' code ended that process (a signal, an exit, a hang, a misaligned call into a host proc): none of their
    /// init code ran in the host.
    /// </summary>
    Trial,

    /// <summary>
    /// Nothing was loaded: the process already holds <see cref="HcrRuntimeOptions.MaxFaultedImages"/> libraries whose
    /// code faulted, which stay mapped for good.
    /// </summary>
    Limit,
}

/// <summary>
/// A module failed to load or to initialise. At start nothing stays loaded; during a reload the previous code stays in
/// place and running, and the runtime is as it was before the reload began.
/// </summary>
public sealed class ModuleLoadException(string module, string? path, ModuleLoadStage stage, string cause, Exception? inner = null, ModuleFault? fault = null)
    : HcrException($"module '{module}'{(path is null ? "" : $" ({path})")}: {Describe(stage)}: {cause}", inner)
{
    /// <summary>What the library said when its code faulted and the fault guard contained it.</summary>
    public const string KeptMapped = "the library stays mapped and is never unloaded (its code stopped halfway)";

    /// <summary>A fault of the module's code, contained by the fault guard, in the stage's function.</summary>
    public static ModuleLoadException Faulted(string module, string? path, ModuleLoadStage stage, ModuleFault fault, string? note = null) =>
        new(module, path, stage, $"{fault}; {KeptMapped}{(note is null ? "" : $"; {note}")}", fault: fault);

    /// <summary>The module that failed.</summary>
    public string Module { get; } = module;

    /// <summary>The library file (the original, not the runtime's copy), when known.</summary>
    public string? Path { get; } = path;

    /// <summary>What the runtime was doing with the module when it failed.</summary>
    public ModuleLoadStage Stage { get; } = stage;

    /// <summary>The cause in words, without the module name.</summary>
    public string Cause { get; } = cause;

    /// <summary>The contained fault when the module's code faulted; null for every other failure.</summary>
    public ModuleFault? Fault { get; } = fault;

    private static string Describe(ModuleLoadStage stage) => stage switch
    {
        ModuleLoadStage.Copy => "cannot copy the library",
        ModuleLoadStage.Format => $"not a loadable ELF shared library for {HostCpu.Current?.Name ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString()}",
        ModuleLoadStage.Load => "the dynamic loader refused it",
        ModuleLoadStage.MissingExport => "missing export",
        ModuleLoadStage.Metadata => "cannot read its imports or signature hash",
        ModuleLoadStage.Init => "initialisation failed",
        ModuleLoadStage.Handler => "a before-reload handler failed",
        ModuleLoadStage.Trial => "refused before it ran here",
        ModuleLoadStage.Limit => "too many faulted libraries stay mapped",
        _ => stage.ToString(),
    };
}
