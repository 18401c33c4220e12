namespace HcrLab.Runtime;

/// <summary>
/// What a host that is itself a program of the reference's kind (Nim's main module, or a C host) says at start, as
/// <c>hcrInit(imports, main, system, mainDatInit, handle, getProcAddr)</c> does. Every member is optional: the defaults
/// are a .NET host's start.
/// </summary>
public sealed record HcrStartOptions
{
    /// <summary>
    /// The host's own module name. A module of that name added earlier (<see cref="HcrRuntime.AddModule"/>, with the
    /// symbols the host registered under it) becomes the root, replacing the default root, which must then be empty.
    /// Null keeps the root of <see cref="HcrRuntimeOptions.RootModuleName"/>.
    /// </summary>
    public string? RootModule { get; init; }

    /// <summary>
    /// A module whose <c>DatInit000</c> and <c>Init000</c> run before every other module's, at start and at every
    /// effective reload, whether it changed or not (Nim's <c>system</c>). Null or empty for none.
    /// </summary>
    public string? SystemModule { get; init; }

    /// <summary>
    /// The host's own data-init, <c>void (*)(void)</c>: run after every module's <c>DatInit000</c> and before the new
    /// code's <c>Init000</c>, at start and at every effective reload, so the host re-resolves the slots it uses. 0 for none.
    /// </summary>
    public nint MainDataInit { get; init; }

    /// <summary>The first argument of each module's <c>HcrInit000</c>; 0 for <see cref="HcrRuntime.Handle"/>.</summary>
    public nint ModuleHandle { get; init; }

    /// <summary>
    /// The <c>getProcAddr</c> passed to each module's <c>HcrInit000</c>, <c>void* (*)(void* handle, const char* name)</c>;
    /// 0 for <see cref="HcrRuntime.ProcAddressGetter"/>. Nim passes <c>dlsym</c> on the runtime library's handle.
    /// </summary>
    public nint ModuleProcAddressGetter { get; init; }
}
