namespace HcrLab.Runtime;

/// <summary>The base of every error the runtime reports, so a host can catch the runtime's errors and nothing else.</summary>
public class HcrException : Exception
{
    /// <summary>Creates the error with a message a user can act on.</summary>
    public HcrException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with a message a user can act on and the error that caused it.</summary>
    public HcrException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}

/// <summary>The executable memory's bounded range has no room for another allocation.</summary>
public sealed class ExecutableMemoryFullException(ulong capacity, ulong used, ulong requested)
    : HcrException($"executable memory is full: {used} of {capacity} bytes used, {requested} more requested")
{
    /// <summary>Bytes the executable memory reserves in all.</summary>
    public ulong Capacity { get; } = capacity;

    /// <summary>Bytes already allocated.</summary>
    public ulong Used { get; } = used;

    /// <summary>Bytes the refused allocation asked for.</summary>
    public ulong Requested { get; } = requested;
}

/// <summary>
/// No slot of the jump table can be handed out: every slot is in use, or the released ones still wait for registered
/// threads to report a quiescent state (a stale address of a removed proc must never run another proc).
/// </summary>
public sealed class JumpTableFullException : HcrException
{
    /// <summary>Every slot is in use (none is released); <paramref name="inner"/> is the cause, if any.</summary>
    public JumpTableFullException(int capacity, Exception? inner = null)
        : base($"the jump table is full: all {capacity} slots are in use; give HcrRuntimeOptions.JumpTableCapacity a larger value", inner)
    {
        Capacity = capacity;
        LaggingThreads = [];
    }

    /// <param name="capacity">The table's capacity.</param>
    /// <param name="released">Released slots waiting to be reusable.</param>
    /// <param name="laggingThreads">The registered threads that have not reported a quiescent state since the oldest was released.</param>
    public JumpTableFullException(int capacity, int released, IReadOnlyList<string> laggingThreads)
        : base($"the jump table is full: all {capacity} slots are in use or released, and the {released} released slot(s) cannot be reused yet " +
            $"because {string.Join(", ", laggingThreads)} reported no quiescent state since the oldest was released (it may still hold that address); " +
            "report quiescent states (HcrThread.ReportQuiescentState) or give HcrRuntimeOptions.JumpTableCapacity a larger value")
    {
        Capacity = capacity;
        LaggingThreads = laggingThreads;
    }

    /// <summary>The table's number of slots (<see cref="HcrRuntimeOptions.JumpTableCapacity"/>).</summary>
    public int Capacity { get; }

    /// <summary>The threads that held released slots back (empty when every slot is in use).</summary>
    public IReadOnlyList<string> LaggingThreads { get; }
}

/// <summary>No module of that name is known to the runtime (it was never added or loaded, or it was unloaded).</summary>
public sealed class UnknownModuleException(string module)
    : HcrException($"unknown module '{module}'")
{
    /// <summary>The name that was looked up.</summary>
    public string Module { get; } = module;
}

/// <summary>What kind of symbol a lookup was for.</summary>
public enum SymbolKind
{
    /// <summary>A proc: a function called through its jump-table slot.</summary>
    Proc,

    /// <summary>A global: runtime-owned memory kept across reloads.</summary>
    Global,
}

/// <summary>The module is known but has no proc or global of that name.</summary>
public sealed class UnknownSymbolException(SymbolKind kind, string module, string name)
    : HcrException($"module '{module}' has no {kind.ToString().ToLowerInvariant()} named '{name}'")
{
    /// <summary>Whether a proc or a global was looked up.</summary>
    public SymbolKind Kind { get; } = kind;

    /// <summary>The module that was searched.</summary>
    public string Module { get; } = module;

    /// <summary>The symbol name that was not found.</summary>
    public string Name { get; } = name;
}

/// <summary>
/// A global was registered again with a different size. The runtime keeps the existing block (other code holds its
/// address) and refuses the registration instead of handing out a block smaller than the code expects.
/// </summary>
public sealed class GlobalSizeMismatchException(string module, string name, ulong registeredSize, ulong requestedSize)
    : HcrException(
        $"global '{name}' of module '{module}' was registered with {registeredSize} bytes and is now registered with {requestedSize}; " +
        "a global cannot change size across a reload (rename it, or remove it in one reload and add it back in the next)")
{
    /// <summary>The global's module.</summary>
    public string Module { get; } = module;

    /// <summary>The global's name.</summary>
    public string Name { get; } = name;

    /// <summary>The size the global was first registered with, which it keeps.</summary>
    public ulong RegisteredSize { get; } = registeredSize;

    /// <summary>The size of the refused registration.</summary>
    public ulong RequestedSize { get; } = requestedSize;
}

/// <summary>A global was registered with more bytes than <see cref="HcrRuntimeOptions.MaxGlobalSize"/> allows, or its memory could not be allocated.</summary>
public sealed class GlobalTooLargeException(string module, string name, ulong requestedSize, ulong maxSize, Exception? inner = null)
    : HcrException(
        inner is null
            ? $"global '{name}' of module '{module}' asks for {requestedSize} bytes; the limit is {maxSize} (HcrRuntimeOptions.MaxGlobalSize)"
            : $"global '{name}' of module '{module}' asks for {requestedSize} bytes, which cannot be allocated",
        inner)
{
    /// <summary>The global's module.</summary>
    public string Module { get; } = module;

    /// <summary>The global's name.</summary>
    public string Name { get; } = name;

    /// <summary>The size the registration asked for.</summary>
    public ulong RequestedSize { get; } = requestedSize;

    /// <summary>The limit, <see cref="HcrRuntimeOptions.MaxGlobalSize"/>.</summary>
    public ulong MaxSize { get; } = maxSize;
}

/// <summary>
/// Native code that the host called through <see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/> raised a hardware
/// fault, and the fault guard contained it: the call did not return, and its code stopped halfway. When the faulting
/// instruction lies in a library of a module, that library stays mapped for good (it is never <c>dlclose</c>d).
/// </summary>
public sealed class ModuleFaultException(ModuleFault fault, string? module)
    : HcrException(module is null
        ? $"{fault}; the faulting instruction is in no library of a module this runtime loaded"
        : $"module '{module}': {fault}; {ModuleLoadException.KeptMapped}")
{
    /// <summary>The call, the signal and its <c>si_code</c>, the fault address and the faulting instruction.</summary>
    public ModuleFault Fault { get; } = fault;

    /// <summary>
    /// The module whose library (loaded now, or replaced by a reload and still retained) holds the faulting instruction;
    /// null when it lies elsewhere (unmapped memory, libc, a library the runtime did not load).
    /// </summary>
    public string? Module { get; } = module;
}

/// <summary>
/// An <see cref="HcrThread"/> was asked to report for a thread other than the one that registered it: a report says "this
/// thread is outside module code now", which only that thread can know, and a report made for it by another would let a
/// reload unload code it may still be running.
/// </summary>
public sealed class WrongThreadException(string method, HcrThread thread, int callingThreadId)
    : HcrException($"{method} was called on managed thread {callingThreadId} for {thread}, which only that thread may call: " +
        "each thread registers itself (HcrRuntime.RegisterThread) and reports its own quiescent states")
{
    /// <summary>The managed thread id of the caller that was refused.</summary>
    public int CallingThreadId { get; } = callingThreadId;
}
