using System.Runtime.InteropServices;
using HcrLab.Runtime;

namespace HcrLab.Native;

/// <summary>
/// The reference's C ABI (<c>libnimhcr.so</c> of Nim 1.6.10) under its exact symbol names, over the one runtime. The
/// bodies are the runtime's own (<c>ModuleAbi</c>): nothing throws into native code, a refused call answers NULL or
/// false with one <c>hcr: ...</c> line on stderr. Where Nim's signature has a Nim type, the export takes what Nim
/// 1.6.10's generated C passes (see README.md): <c>hcrHasModuleChanged</c> a Nim string, <c>hcrAddEventHandler</c> a
/// closure by value. <c>bool</c> is one byte (Nim's <c>NIM_BOOL</c>, C's <c>_Bool</c>); Nim's <c>int</c> and
/// <c>Natural</c> are 64-bit. Each export first disarms the fault guard of a guarded call it was called from
/// (<c>FaultGuard.EnterCallback</c>), as the runtime's own entry points do.
/// </summary>
internal static unsafe class NativeExports
{
    [UnmanagedCallersOnly(EntryPoint = "hcrRegisterProc")]
    private static nint RegisterProc(byte* module, byte* name, nint fn)
    {
        using var callback = FaultGuard.EnterCallback();
        return NativeRuntime.Ensure() ? ModuleAbi.RegisterProc(module, name, fn) : 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrGetProc")]
    private static nint GetProc(byte* module, byte* name)
    {
        using var callback = FaultGuard.EnterCallback();
        return NativeRuntime.Ensure() ? ModuleAbi.GetProc(module, name) : 0;
    }

    /// <summary><c>size</c> is Nim's <c>Natural</c>; <c>gcMarker</c> a <c>proc () {.nimcall.}</c>, a plain C function pointer.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrRegisterGlobal")]
    private static byte RegisterGlobal(byte* module, byte* name, nuint size, nint gcMarker, nint* output)
    {
        using var callback = FaultGuard.EnterCallback();
        return NativeRuntime.Ensure() ? ModuleAbi.RegisterGlobal(module, name, size, gcMarker, output) : (byte)0;
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrGetGlobal")]
    private static nint GetGlobal(byte* module, byte* name)
    {
        using var callback = FaultGuard.EnterCallback();
        return NativeRuntime.Ensure() ? ModuleAbi.GetGlobal(module, name) : 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrInit")]
    private static void Init(byte** imports, byte* main, byte* system, nint mainDataInit, nint handle, nint getProcAddr)
    {
        using var callback = FaultGuard.EnterCallback();
        if (NativeRuntime.Ensure())
        {
            ModuleAbi.Init(imports, main, system, mainDataInit, handle, getProcAddr);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrAddModule")]
    private static void AddModule(byte* module)
    {
        using var callback = FaultGuard.EnterCallback();
        if (NativeRuntime.Ensure())
        {
            ModuleAbi.AddModule(module);
        }
    }

    /// <summary>Nim's <c>hcrHasModuleChanged(moduleHash: string)</c>: a Nim string (a signature hash, or a module name).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrHasModuleChanged")]
    private static byte HasModuleChanged(byte* nimString)
    {
        using var callback = FaultGuard.EnterCallback();
        if (!NativeRuntime.Ensure())
        {
            return 0;
        }

        string? key = NimString.Decode(nimString);
        if (key is null)
        {
            Console.Error.WriteLine("hcr: hcrHasModuleChanged: the argument is not a Nim 1.6 string (its length is impossible, or it runs off readable memory)");
            return 0;
        }

        return ModuleAbi.HasModuleChanged(key);
    }

    /// <summary>The same question for C hosts: a C string (a signature hash, or a module name).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrlabHasModuleChanged")]
    private static byte HasModuleChangedC(byte* moduleOrHash)
    {
        using var callback = FaultGuard.EnterCallback();
        return NativeRuntime.Ensure() ? ModuleAbi.HasModuleChanged(moduleOrHash) : (byte)0;
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrReloadNeeded")]
    private static byte ReloadNeeded()
    {
        using var callback = FaultGuard.EnterCallback();
        return NativeRuntime.Ensure() ? ModuleAbi.ReloadNeeded() : (byte)0;
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrPerformCodeReload")]
    private static void PerformCodeReload()
    {
        using var callback = FaultGuard.EnterCallback();
        if (!NativeRuntime.Ensure())
        {
            return;
        }

        if (HcrRuntime.Current is { IsStarted: false })
        {
            // Said in the C ABI's words (the runtime's own message names its C# method).
            Console.Error.WriteLine("hcr: hcrPerformCodeReload: nothing is started: call hcrInit first");
            return;
        }

        NativeRuntime.ReloadWithNimGcPaused();
    }

    /// <summary>
    /// From a module's init code: fail the start or reload that runs it, with the reason (as through the getter's
    /// <c>hcrFailInit</c>); a C host sees the reason in <c>hcrlabLastError()</c> after <c>hcrlabInit</c>/<c>hcrlabReload</c>.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrFailInit")]
    private static void FailInit(byte* reason)
    {
        using var callback = FaultGuard.EnterCallback();
        if (NativeRuntime.Ensure())
        {
            ModuleAbi.FailInit(reason);
        }
    }

    /// <summary>Nim's <c>hcrAddEventHandler(isBefore: bool, cb: proc ())</c>: the closure comes by value, proc then environment.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrAddEventHandler")]
    private static void AddEventHandler(byte isBefore, NimClosure handler)
    {
        using var callback = FaultGuard.EnterCallback();
        if (NativeRuntime.Ensure())
        {
            ModuleAbi.AddEventHandler(isBefore, handler.Function, handler.Environment);
        }
    }

    /// <summary>Nim's <c>int</c>: 64-bit.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hcrGeneration")]
    private static long Generation()
    {
        using var callback = FaultGuard.EnterCallback();
        return NativeRuntime.Ensure() ? ModuleAbi.Generation() : -1;
    }

    [UnmanagedCallersOnly(EntryPoint = "hcrMarkGlobals")]
    private static void MarkGlobals()
    {
        using var callback = FaultGuard.EnterCallback();
        if (HcrRuntime.Current is not null)
        {
            ModuleAbi.MarkGlobals();
        }
    }
}
