using System.Runtime.InteropServices;

namespace HcrLab.Runtime;

/// <summary>
/// What differs between procs and globals in the runtime's one registration, lookup and undo path
/// (<see cref="HcrRuntime"/>'s symbols section): which table, what a registration carries (<typeparamref name="TArgs"/>) and
/// answers (<typeparamref name="TResult"/>), whether a known name may take it, and how a new symbol is made and unmade.
/// The kinds are structs with static members, so the JIT compiles each path once per kind, with no virtual call and
/// nothing allocated on the lock-free lookup.
/// </summary>
internal unsafe interface ISymbolKind<TSymbol, TArgs, TResult>
    where TSymbol : NamedSymbol
{
    static abstract SymbolKind Kind { get; }

    static abstract SymbolTable<TSymbol> TableOf(ModuleDescriptor module);

    static abstract nint AddressOf(TSymbol symbol);

    /// <summary>
    /// Whether a known name may be registered again with <paramref name="args"/>: false, or with
    /// <paramref name="orThrow"/> an exception, when not.
    /// </summary>
    static abstract bool Fits(ModuleDescriptor module, TSymbol symbol, in TArgs args, bool orThrow);

    /// <summary>How to put a known symbol back as it is now, before <see cref="Reregister"/> changes it.</summary>
    static abstract Action UndoReregister(HcrRuntime runtime, TSymbol symbol);

    /// <summary>A known name registered again: re-pointed or kept, at <paramref name="generation"/>.</summary>
    static abstract TResult Reregister(HcrRuntime runtime, TSymbol symbol, in TArgs args, long generation);

    /// <summary>Checks and takes what a new symbol needs (before the write window opens); throws when refused.</summary>
    static abstract nint Reserve(HcrRuntime runtime, ModuleDescriptor module, scoped in SymbolKey name, in TArgs args);

    /// <summary>The new symbol, inside the write window, over what <see cref="Reserve"/> took (0 for nothing).</summary>
    static abstract TSymbol Create(HcrRuntime runtime, ModuleDescriptor module, scoped in SymbolKey name, in TArgs args, nint reserved, long generation);

    static abstract TResult Created(TSymbol symbol);

    /// <summary>How a rolled-back start or reload takes a new symbol away again.</summary>
    static abstract Action UndoAdd(HcrRuntime runtime, ModuleDescriptor module, TSymbol symbol, HcrRuntime.ReloadTransaction transaction);
}

/// <summary>Procs: a slot in the jump table, re-pointed when the name is registered again.</summary>
internal readonly struct ProcKind : ISymbolKind<ProcSymbol, nint, nint>
{
    public static SymbolKind Kind => SymbolKind.Proc;

    public static SymbolTable<ProcSymbol> TableOf(ModuleDescriptor module) => module.ProcTable;

    public static nint AddressOf(ProcSymbol symbol) => symbol.Address;

    public static bool Fits(ModuleDescriptor module, ProcSymbol symbol, in nint target, bool orThrow) => true;

    // The undo actions are built by these helpers, not by lambdas in the callers: a lambda there would allocate its
    // captured state on every call, inside a start or reload or not.
    public static Action UndoReregister(HcrRuntime runtime, ProcSymbol proc)
    {
        var (previousTarget, previousGeneration) = (proc.Target, proc.Generation);
        return () =>
        {
            runtime.Table.Repoint(proc.Slot, previousTarget);
            proc.Target = previousTarget;
            proc.Generation = previousGeneration;
        };
    }

    public static nint Reregister(HcrRuntime runtime, ProcSymbol proc, in nint target, long generation)
    {
        runtime.Table.Repoint(proc.Slot, target);
        proc.Target = target;
        proc.Generation = generation;
        return proc.Address;
    }

    public static nint Reserve(HcrRuntime runtime, ModuleDescriptor module, scoped in SymbolKey name, in nint target) => 0;

    public static ProcSymbol Create(HcrRuntime runtime, ModuleDescriptor module, scoped in SymbolKey name, in nint target, nint reserved, long generation)
    {
        string text = name.ToString();
        return new ProcSymbol(module.Name, name.Bytes.ToArray(), name.Hash, text, runtime.Table.Allocate(target, module.Name, text), target, generation);
    }

    public static nint Created(ProcSymbol proc) => proc.Address;

    public static Action UndoAdd(HcrRuntime runtime, ModuleDescriptor module, ProcSymbol proc, HcrRuntime.ReloadTransaction transaction) => () =>
    {
        module.ProcTable.Remove(proc);
        runtime.Table.Release(proc.Slot, proc.Module, proc.Name);
    };
}

/// <summary>What a global's registration carries: its size and GC marker.</summary>
internal readonly record struct GlobalArgs(ulong Size, nint GcMarker);

/// <summary>Globals: a zeroed block the runtime owns, kept (same size only) when the name is registered again.</summary>
internal readonly unsafe struct GlobalKind : ISymbolKind<GlobalSymbol, GlobalArgs, GlobalRegistration>
{
    public static SymbolKind Kind => SymbolKind.Global;

    public static SymbolTable<GlobalSymbol> TableOf(ModuleDescriptor module) => module.GlobalTable;

    public static nint AddressOf(GlobalSymbol symbol) => symbol.Address;

    public static bool Fits(ModuleDescriptor module, GlobalSymbol global, in GlobalArgs args, bool orThrow) =>
        global.Size == args.Size || (orThrow ? throw new GlobalSizeMismatchException(module.Name, global.Name, global.Size, args.Size) : false);

    public static Action UndoReregister(HcrRuntime runtime, GlobalSymbol global)
    {
        var (previousGeneration, previousMarker) = (global.Generation, global.GcMarker);
        return () =>
        {
            global.Generation = previousGeneration;
            global.GcMarker = previousMarker;
        };
    }

    public static GlobalRegistration Reregister(HcrRuntime runtime, GlobalSymbol global, in GlobalArgs args, long generation)
    {
        global.Generation = generation;
        global.GcMarker = args.GcMarker;
        return new GlobalRegistration(global.Address, IsNew: false);
    }

    public static nint Reserve(HcrRuntime runtime, ModuleDescriptor module, scoped in SymbolKey name, in GlobalArgs args)
    {
        ulong size = args.Size, limit = runtime.Options.MaxGlobalSize;
        if (size > limit)
        {
            throw new GlobalTooLargeException(module.Name, name.ToString(), size, limit);
        }

        nint address;
        try
        {
            address = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(size, 1UL), 16);
        }
        catch (OutOfMemoryException e)
        {
            throw new GlobalTooLargeException(module.Name, name.ToString(), size, limit, e);
        }

        NativeMemory.Clear((void*)address, (nuint)Math.Max(size, 1UL));
        return address;
    }

    public static GlobalSymbol Create(HcrRuntime runtime, ModuleDescriptor module, scoped in SymbolKey name, in GlobalArgs args, nint reserved, long generation) =>
        new(module.Name, name.Bytes.ToArray(), name.Hash, name.Text, reserved, args.Size, args.GcMarker, generation);

    public static GlobalRegistration Created(GlobalSymbol global) => new(global.Address, IsNew: true);

    /// <summary>New code that was rolled back may still be running on other threads with the block's address in hand, so the block is retired, not freed.</summary>
    public static Action UndoAdd(HcrRuntime runtime, ModuleDescriptor module, GlobalSymbol global, HcrRuntime.ReloadTransaction transaction) => () =>
    {
        module.GlobalTable.Remove(global);
        transaction.RetiredBlocks.Add(global.Address);
    };
}
