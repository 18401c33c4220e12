using HcrLab.Runtime;

namespace HcrLab.Tests.Runtime;

/// <summary>The runtime's symbol entry points as a module reaches them (<see cref="HcrRuntime.EntryPoint"/>), for tests that call them as C does.</summary>
internal static unsafe class CAbiEntryPoints
{
    public static readonly delegate* unmanaged<byte*, byte*, nint, nint> RegisterProc =
        (delegate* unmanaged<byte*, byte*, nint, nint>)HcrRuntime.EntryPoint("hcrRegisterProc");

    public static readonly delegate* unmanaged<byte*, byte*, nint> GetProc =
        (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetProc");

    public static readonly delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte> RegisterGlobal =
        (delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte>)HcrRuntime.EntryPoint("hcrRegisterGlobal");

    public static readonly delegate* unmanaged<byte*, byte*, nint> GetGlobal =
        (delegate* unmanaged<byte*, byte*, nint>)HcrRuntime.EntryPoint("hcrGetGlobal");
}
