namespace HcrLab.Runtime;

/// <summary>
/// The one registration, lookup and undo path of procs and globals, generic over the kind of symbol
/// (<see cref="ProcKind"/>, <see cref="GlobalKind"/> in SymbolKinds.cs): a known name is re-pointed or kept, a new name
/// allocated, and either is undone on rollback. The kinds are structs, so each path is compiled once per kind.
/// </summary>
public sealed unsafe partial class HcrRuntime
{
    /// <summary>The one place that decides: a known name is registered again (undone on rollback), a new name is added.</summary>
    private TResult Register<TKind, TSymbol, TArgs, TResult>(scoped in SymbolKey module, scoped in SymbolKey name, in TArgs args)
        where TKind : struct, ISymbolKind<TSymbol, TArgs, TResult>
        where TSymbol : NamedSymbol
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var descriptor = ModuleOrThrow(module);
            if (TKind.TableOf(descriptor).Find(name) is { } symbol)
            {
                TKind.Fits(descriptor, symbol, args, orThrow: true);
                _transaction?.OnUndo(TKind.UndoReregister(this, symbol));
                return TKind.Reregister(this, symbol, args, _generation);
            }

            return Add<TKind, TSymbol, TArgs, TResult>(descriptor, name, args);
        }
    }

    /// <summary>As <see cref="Register"/> for the C ABI outside a start or reload; false when <see cref="Register"/> must answer.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private bool TryRegisterDirect<TKind, TSymbol, TArgs, TResult>(byte* module, byte* name, in TArgs args, out TResult result)
        where TKind : struct, ISymbolKind<TSymbol, TArgs, TResult>
        where TSymbol : NamedSymbol
    {
        result = default!;
        lock (_lock)
        {
            if (_writeDepth != 0 || _transaction is not null || _moduleIndex.Find(module) is not { } descriptor)
            {
                return false;
            }

            var key = SymbolKey.Raw(name);
            if (TKind.TableOf(descriptor).Find(key) is not { } symbol)
            {
                if (key.IsEmpty || !System.Text.Unicode.Utf8.IsValid(key.Bytes))
                {
                    return false;
                }

                result = Add<TKind, TSymbol, TArgs, TResult>(descriptor, key, args);
                return true;
            }

            if (!symbol.KeyIsUtf8 || !TKind.Fits(descriptor, symbol, args, orThrow: false))
            {
                return false;
            }

            result = TKind.Reregister(this, symbol, args, _generation);
            return true;
        }
    }

    /// <summary>A new symbol (the caller holds the lock and looked first): what it needs, the symbol, and its undo step in a transaction.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private TResult Add<TKind, TSymbol, TArgs, TResult>(ModuleDescriptor descriptor, scoped in SymbolKey name, in TArgs args)
        where TKind : struct, ISymbolKind<TSymbol, TArgs, TResult>
        where TSymbol : NamedSymbol
    {
        nint reserved = TKind.Reserve(this, descriptor, name, args);
        using var write = BeginWrite(modules: false);
        var symbol = TKind.Create(this, descriptor, name, args, reserved, _generation);
        TKind.TableOf(descriptor).Add(symbol, TKind.AddressOf(symbol));
        var transaction = _transaction;
        transaction?.OnUndo(TKind.UndoAdd(this, descriptor, symbol, transaction));
        return TKind.Created(symbol);
    }

    private bool TryGetAddress<TKind, TSymbol, TArgs, TResult>(string module, string name, out nint address)
        where TKind : struct, ISymbolKind<TSymbol, TArgs, TResult>
        where TSymbol : NamedSymbol
    {
        lock (_lock)
        {
            address = _modules.TryGetValue(module, out var descriptor) && TKind.TableOf(descriptor).TryGetValue(name, out var symbol) ? TKind.AddressOf(symbol) : 0;
            return address != 0;
        }
    }

    private TSymbol GetSymbol<TKind, TSymbol, TArgs, TResult>(string module, string name)
        where TKind : struct, ISymbolKind<TSymbol, TArgs, TResult>
        where TSymbol : NamedSymbol
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> moduleBuffer = stackalloc byte[SymbolKey.StackBytes], nameBuffer = stackalloc byte[SymbolKey.StackBytes];
        return GetSymbol<TKind, TSymbol, TArgs, TResult>(SymbolKey.FromString(module, moduleBuffer), SymbolKey.FromString(name, nameBuffer));
    }

    private TSymbol GetSymbol<TKind, TSymbol, TArgs, TResult>(scoped in SymbolKey module, scoped in SymbolKey name)
        where TKind : struct, ISymbolKind<TSymbol, TArgs, TResult>
        where TSymbol : NamedSymbol
    {
        lock (_lock)
        {
            var descriptor = ModuleOrThrow(module);
            var symbol = TKind.TableOf(descriptor).Find(name);
            if (TKind.Kind == SymbolKind.Global && _initModule?.Library is { } holder && holder.Module != descriptor.Name)
            {
                // Init code stores what it looks up: the library holds a global's address until it is replaced or looks again.
                _droppedGlobals.LookedUpAgain(holder, descriptor.Name, symbol?.Name ?? name.ToString());
                if (symbol is GlobalSymbol global)
                {
                    (global.Holders ??= []).Add(holder);
                }
            }

            return symbol ?? throw new UnknownSymbolException(TKind.Kind, module.ToString(), name.ToString());
        }
    }

    /// <summary>The lock-free lookup (see the class): no lock, no allocation, no virtual call; the kind is compiled in.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private nint FindAddress<TKind, TSymbol, TArgs, TResult>(byte* module, byte* name)
        where TKind : struct, ISymbolKind<TSymbol, TArgs, TResult>
        where TSymbol : NamedSymbol
    {
        long version = Volatile.Read(ref _version);
        if ((version & 1) != 0 || Volatile.Read(ref _moduleIndex).Find(module) is not { } descriptor)
        {
            return 0;
        }

        nint address = TKind.TableOf(descriptor).FindAddress(SymbolKey.Raw(name));

        // The tables' loads must be done before the counter is read again, or an unchanged even counter would not mean
        // that no writer touched them while they were read. The acquire read of the counter above keeps them after it,
        // but an acquire read (this one too) does not keep earlier loads from being satisfied after it: arm64 may do
        // that, so a load-load barrier separates them (dmb ishld there; on x64, which keeps loads in order, it only stops
        // the JIT from moving loads across it). The writer's side is BeginWrite's full fence and EndWrite's release.
        Volatile.ReadBarrier();
        return Volatile.Read(ref _version) == version ? address : 0;
    }
}
