using System.Runtime.InteropServices;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// Empty <c>[UnmanagedCallersOnly]</c> functions with the signatures of the symbol entry points, reached through the same
/// kind of function pointer as <see cref="CAbi"/>: what any C ABI call into the runtime pays before it does any work
/// (the native-to-managed transition and back). A symbol benchmark's "runtime work" is its figure minus this floor,
/// both from the same run.
/// </summary>
public static unsafe class CAbiFloor
{
    /// <summary>The signature of <c>hcrRegisterProc</c>.</summary>
    public static readonly delegate* unmanaged<byte*, byte*, nint, nint> RegisterProc = &RegisterProcEntry;

    /// <summary>The signature of <c>hcrGetProc</c> and <c>hcrGetGlobal</c>.</summary>
    public static readonly delegate* unmanaged<byte*, byte*, nint> Get = &GetEntry;

    /// <summary>The signature of <c>hcrRegisterGlobal</c>.</summary>
    public static readonly delegate* unmanaged<byte*, byte*, nuint, nint, nint*, byte> RegisterGlobal = &RegisterGlobalEntry;

    [UnmanagedCallersOnly]
    private static nint RegisterProcEntry(byte* module, byte* name, nint fn) => 0;

    [UnmanagedCallersOnly]
    private static nint GetEntry(byte* module, byte* name) => 0;

    [UnmanagedCallersOnly]
    private static byte RegisterGlobalEntry(byte* module, byte* name, nuint size, nint gcMarker, nint* output) => 0;
}
