using HcrLab.Runtime;

namespace HcrLab.Native;

/// <summary>
/// <c>HcrlabStatus</c> of <c>include/hcrlab.h</c>, what every <c>hcrlab*</c> entry point returns: the same numbers, and
/// the one place where the runtime's exceptions become them.
/// </summary>
internal enum HcrlabStatus
{
    Ok = 0,

    /// <summary>Modules failed to load or to initialise: the start or reload was undone (<see cref="ModuleLoadException"/>).</summary>
    Refused = 1,

    /// <summary>A guarded call faulted and the fault was contained (<see cref="ModuleFaultException"/>).</summary>
    Fault = 2,

    /// <summary>Not now: not started, started already, created already, a thread not registered or registered twice.</summary>
    InvalidCall = 3,

    /// <summary>A NULL or malformed argument.</summary>
    InvalidArgument = 4,

    /// <summary>No module or proc of that name.</summary>
    NotFound = 5,

    /// <summary>The runtime cannot run here (not linux-x64) or could not be created.</summary>
    Unavailable = 6,

    /// <summary>Anything else the runtime threw (a full jump table, out of memory, ...).</summary>
    Failed = 7,
}

internal static class HcrlabStatuses
{
    /// <summary>The status an exception of the runtime stands for (most derived types first).</summary>
    public static HcrlabStatus Of(Exception e) => e switch
    {
        ModuleLoadException => HcrlabStatus.Refused,
        ModuleFaultException => HcrlabStatus.Fault,
        UnknownModuleException or UnknownSymbolException => HcrlabStatus.NotFound,
        ArgumentException => HcrlabStatus.InvalidArgument,
        PlatformNotSupportedException => HcrlabStatus.Unavailable,
        InvalidOperationException => HcrlabStatus.InvalidCall,
        _ => HcrlabStatus.Failed,
    };
}
