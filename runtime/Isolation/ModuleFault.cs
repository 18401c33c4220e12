namespace HcrLab.Runtime;

/// <summary>
/// A hardware fault in module code that the fault guard contained (see <see cref="HcrRuntimeOptions.ContainFaults"/>):
/// which function the runtime had called, the signal and its <c>si_code</c>, the address the fault names (the bad
/// access for SIGSEGV and SIGBUS, the instruction for SIGILL, SIGFPE and SIGTRAP) and the faulting instruction.
/// </summary>
/// <param name="Function">
/// The module function the runtime called (<c>Init000</c>, <c>HcrGetSigHash</c>, a handler, ...), or the host's call
/// (<see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/>).
/// </param>
/// <param name="Signal">The signal number (11 SIGSEGV, 7 SIGBUS, 4 SIGILL, 8 SIGFPE, 5 SIGTRAP).</param>
/// <param name="Code">The signal's <c>si_code</c> (for example 1, SEGV_MAPERR).</param>
/// <param name="Address">The signal's <c>si_addr</c>.</param>
/// <param name="Pc">The faulting instruction's address.</param>
/// <param name="Location">The PC as <c>image+0xoffset</c> when it lies in a loaded object; null otherwise.</param>
public sealed record ModuleFault(string Function, int Signal, int Code, ulong Address, ulong Pc, string? Location)
{
    /// <summary>"SIGSEGV (SEGV_MAPERR: address not mapped) at address 0x0, pc 0x7f.. (a.g1.2.so+0x1139)".</summary>
    public string Describe() =>
        $"{SignalName(Signal)} ({CodeMeaning(Signal, Code)}) at address 0x{Address:x}, pc 0x{Pc:x}{(Location is null ? "" : $" ({Location})")}";

    /// <summary>The function that faulted and <see cref="Describe"/>, in one line.</summary>
    public override string ToString() => $"{Function} faulted: {Describe()}";

    /// <summary>The name of a signal the guard contains (or SIGABRT), else "signal N".</summary>
    public static string SignalName(int signal) => signal switch
    {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        11 => "SIGSEGV",
        _ => $"signal {signal}",
    };

    /// <summary>The <c>si_code</c>'s name and meaning as Linux's siginfo.h defines them for that signal (x86-64).</summary>
    public static string CodeMeaning(int signal, int code) => (signal, code) switch
    {
        (_, 0x80) => "SI_KERNEL: raised by the kernel, e.g. a general-protection fault or int3",
        (11, 1) => "SEGV_MAPERR: address not mapped",
        (11, 2) => "SEGV_ACCERR: invalid permissions for mapped object",
        (11, 3) => "SEGV_BNDERR: failed address bound checks",
        (11, 4) => "SEGV_PKUERR: failed protection key checks",
        (7, 1) => "BUS_ADRALN: invalid address alignment",
        (7, 2) => "BUS_ADRERR: nonexistent physical address (e.g. past the end of a mapped file)",
        (7, 3) => "BUS_OBJERR: object-specific hardware error",
        (7, 4) => "BUS_MCEERR_AR: hardware memory error consumed on a machine check",
        (7, 5) => "BUS_MCEERR_AO: hardware memory error detected, action optional",
        (4, 1) => "ILL_ILLOPC: illegal opcode",
        (4, 2) => "ILL_ILLOPN: illegal operand",
        (4, 3) => "ILL_ILLADR: illegal addressing mode",
        (4, 4) => "ILL_ILLTRP: illegal trap",
        (4, 5) => "ILL_PRVOPC: privileged opcode",
        (4, 6) => "ILL_PRVREG: privileged register",
        (4, 7) => "ILL_COPROC: coprocessor error",
        (4, 8) => "ILL_BADSTK: internal stack error",
        (8, 1) => "FPE_INTDIV: integer divide by zero",
        (8, 2) => "FPE_INTOVF: integer overflow",
        (8, 3) => "FPE_FLTDIV: floating-point divide by zero",
        (8, 4) => "FPE_FLTOVF: floating-point overflow",
        (8, 5) => "FPE_FLTUND: floating-point underflow",
        (8, 6) => "FPE_FLTRES: floating-point inexact result",
        (8, 7) => "FPE_FLTINV: floating-point invalid operation",
        (8, 8) => "FPE_FLTSUB: subscript out of range",
        (5, 1) => "TRAP_BRKPT: process breakpoint",
        (5, 2) => "TRAP_TRACE: process trace trap",
        (5, 3) => "TRAP_BRANCH: process taken branch trap",
        (5, 4) => "TRAP_HWBKPT: hardware breakpoint or watchpoint",
        _ => $"si_code {code}",
    };
}
