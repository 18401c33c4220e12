namespace HcrLab.Runtime;

/// <summary>The step at which loading or initialising a module failed.</summary>
public enum ModuleLoadStage
{
    /// <summary>The library file could not be found or copied.</summary>
    Copy,

    /// <summary>The file is not an x86-64 ELF shared library whose segments lie inside it (empty, truncated, not ELF, ...); checked before the loader sees it.</summary>
    Format,

    /// <summary>The dynamic loader refused the copy (not an ELF file, wrong architecture, unresolved symbol, ...).</summary>
    Load,

    /// <summary>A function of the module ABI is not exported.</summary>
    MissingExport,

    /// <summary>The module's import list or signature hash could not be read.</summary>
    Metadata,

    /// <summary>The module's initialisation made a call the runtime refused (e.g. a global registered with a new size), or reported failure (<c>hcrFailInit</c>).</summary>
    Init,
}

/// <summary>
/// A module failed to load or to initialise. At start nothing stays loaded; during a reload the previous code stays in
/// place and running, and the runtime is as it was before the reload began.
/// </summary>
public sealed class ModuleLoadException(string module, string? path, ModuleLoadStage stage, string cause, Exception? inner = null)
    : HcrException($"module '{module}'{(path is null ? "" : $" ({path})")}: {Describe(stage)}: {cause}", inner)
{
    public string Module { get; } = module;

    /// <summary>The library file (the original, not the runtime's copy), when known.</summary>
    public string? Path { get; } = path;

    public ModuleLoadStage Stage { get; } = stage;

    /// <summary>The cause in words, without the module name.</summary>
    public string Cause { get; } = cause;

    private static string Describe(ModuleLoadStage stage) => stage switch
    {
        ModuleLoadStage.Copy => "cannot copy the library",
        ModuleLoadStage.Format => "not a loadable x86-64 ELF shared library",
        ModuleLoadStage.Load => "the dynamic loader refused it",
        ModuleLoadStage.MissingExport => "missing export",
        ModuleLoadStage.Metadata => "cannot read its imports or signature hash",
        ModuleLoadStage.Init => "initialisation failed",
        _ => stage.ToString(),
    };
}
