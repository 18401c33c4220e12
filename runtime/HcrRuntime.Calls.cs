namespace HcrLab.Runtime;

/// <summary>The host's own calls into module code, with hardware faults contained.</summary>
public sealed partial class HcrRuntime
{
    /// <summary>What <see cref="ModuleFault.Function"/> says for a fault in a call through <see cref="CallGuarded(nint, nint, nint)"/>.</summary>
    private const string HostCall = "a call from the host";

    /// <summary>
    /// Calls <c>function(a0, a1)</c> under the fault guard and returns its return register (rax): a SIGSEGV, SIGBUS,
    /// SIGILL, SIGFPE or SIGTRAP that native code raises during the call becomes a <see cref="ModuleFaultException"/>
    /// instead of the end of the process, and the module library that holds the faulting instruction stays mapped for
    /// good. <paramref name="function"/> is a proc's slot address (<see cref="GetProc"/>) or any native function of at
    /// most two integer or pointer arguments that returns an integer, a pointer or nothing (then the value returned
    /// means nothing; for a type narrower than 64 bits only its low bits do). Floating-point arguments or results,
    /// structs by value and more arguments are not supported. Calls through slots made any other way stay unguarded.
    /// Like those, the call takes no lock and the threads contract is theirs (<see cref="RegisterThread"/>); only after
    /// a fault is the runtime's lock taken, to find the library, which waits for a start or reload in progress.
    /// <para>
    /// The guard's limits hold (see <see cref="HcrRuntimeOptions.ContainFaults"/>): a wild write that does not fault is
    /// not seen, and locks the faulting code held stay held. Managed code is never jumped out of: a fault in a .NET
    /// function reached during the call (an <c>[UnmanagedCallersOnly]</c> method, such as a proc the host registered)
    /// goes to the .NET runtime as always, and becomes a <see cref="NullReferenceException"/> that must not leave that
    /// method. Such a function also runs with the guard armed, so a fault in native code it calls would be contained
    /// across its managed frames, which .NET does not survive: call native module code through this method, not .NET
    /// functions. Each call costs a P/Invoke and a <c>sigsetjmp</c> that saves the signal mask (a system call): about
    /// 0.2 µs, against 3 ns for a direct call through the slot.
    /// </para>
    /// </summary>
    /// <param name="function">The function to call: not 0.</param>
    /// <param name="a0">The first argument (rdi).</param>
    /// <param name="a1">The second argument (rsi).</param>
    /// <exception cref="ModuleFaultException">The call faulted and the guard contained it.</exception>
    /// <exception cref="ArgumentException"><paramref name="function"/> is 0; nothing is called.</exception>
    /// <exception cref="InvalidOperationException">
    /// The runtime was created with <see cref="HcrRuntimeOptions.ContainFaults"/> false. That option promises that no
    /// signal handler is installed, so this method does not install the guard on its own; it refuses instead of calling
    /// unguarded.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The runtime is disposed.</exception>
    public nint CallGuarded(nint function, nint a0 = 0, nint a1 = 0)
    {
        ThrowIfDisposed();
        if (function == 0)
        {
            throw new ArgumentException("the function pointer is NULL", nameof(function));
        }

        return Guarded(function, a0, a1, module: null, proc: null);
    }

    /// <summary>
    /// <see cref="CallGuarded(nint, nint, nint)"/> of proc <paramref name="name"/> of <paramref name="module"/>, through
    /// its slot; a fault's <see cref="ModuleFault.Function"/> names the proc.
    /// </summary>
    /// <exception cref="ModuleFaultException">The call faulted and the guard contained it.</exception>
    /// <exception cref="UnknownModuleException">No such module.</exception>
    /// <exception cref="UnknownSymbolException">The module has no proc of that name.</exception>
    /// <exception cref="InvalidOperationException">The runtime was created with <see cref="HcrRuntimeOptions.ContainFaults"/> false.</exception>
    /// <exception cref="ObjectDisposedException">The runtime is disposed.</exception>
    public nint CallGuarded(string module, string name, nint a0 = 0, nint a1 = 0)
    {
        ThrowIfDisposed();
        return Guarded(GetProc(module, name), a0, a1, module, name);
    }

    private nint Guarded(nint function, nint a0, nint a1, string? module, string? proc)
    {
        if (!Options.ContainFaults)
        {
            throw new InvalidOperationException(
                "CallGuarded needs the fault guard, and this runtime was created with HcrRuntimeOptions.ContainFaults = false, which installs no signal handler; " +
                "create the runtime with ContainFaults = true, or call the function directly");
        }

        if (FaultGuard.Call(HostCall, function, a0, a1, out nint result) is not { } fault)
        {
            return result;
        }

        // The proc's name only now: a call that returns allocates nothing.
        if (proc is not null)
        {
            fault = fault with { Function = $"{HostCall} to proc '{proc}' of module '{module}'" };
        }

        throw new ModuleFaultException(fault, MarkFaulted(fault.Pc));
    }

    /// <summary>
    /// Marks the library that holds <paramref name="pc"/> faulted — a module's loaded library, or one a reload replaced
    /// that is still retained — and returns its module; null when the PC lies in no such library. A library is known by
    /// its copy's path, which is what the loader reports for the object that holds the PC: each load has a path of its
    /// own, while file names alone repeat across runtimes (their copy directories differ).
    /// </summary>
    private string? MarkFaulted(ulong pc)
    {
        if (FaultGuard.ObjectAt(pc) is not { } image)
        {
            return null;
        }

        lock (_lock)
        {
            foreach (var module in _modules.Values)
            {
                if (module.Library is { } library && library.CopyPath == image.Path)
                {
                    library.MarkFaulted();
                    return library.Module;
                }
            }

            // Under the runtime's lock no reload moves a library into retention between the two looks.
            return Retention.MarkFaulted(image.Path);
        }
    }
}
