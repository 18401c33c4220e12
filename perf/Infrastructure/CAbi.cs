using HcrLab.Runtime;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// The runtime's C ABI entry points as a module reaches them (<see cref="HcrRuntime.EntryPoint"/>): calling these from
/// .NET crosses into native code and back exactly as a C module's call does, so the benchmarks pay what a module pays.
/// </summary>
public static unsafe class CAbi
{
    public static readonly delegate* unmanaged<byte*, byte*, nint, nint> RegisterProc =
        (delegate* unmanaged<byte*, byte*, nint, nint>)Require("hcrRegisterProc");

    public static readonly delegate* unmanaged<byte*, byte*, nint> GetProc =
        (delegate* unmanaged<byte*, byte*, nint>)Require("hcrGetProc");

    public static readonly delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte> RegisterGlobal =
        (delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte>)Require("hcrRegisterGlobal");

    public static readonly delegate* unmanaged<byte*, byte*, nint> GetGlobal =
        (delegate* unmanaged<byte*, byte*, nint>)Require("hcrGetGlobal");

    public static readonly delegate* unmanaged<byte*, void> AddModule =
        (delegate* unmanaged<byte*, void>)Require("hcrAddModule");

    public static readonly delegate* unmanaged<byte> ReloadNeeded =
        (delegate* unmanaged<byte>)Require("hcrReloadNeeded");

    private static nint Require(string name)
    {
        nint address = HcrRuntime.EntryPoint(name);
        return address != 0 ? address : throw new InvalidOperationException($"the runtime has no C ABI entry point named {name}");
    }
}
