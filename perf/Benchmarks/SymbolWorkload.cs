using HcrLab.Perf.Infrastructure;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// The loops a module's <c>DatInit000</c> and <c>Init000</c> run: one C ABI registration per name, in order. Shared by
/// the "new name" and "existing name" benchmarks, which differ only in whether the names are already registered.
/// </summary>
internal static unsafe class SymbolWorkload
{
    public static nint RegisterProcs(byte* module, NativeNames names, nint target)
    {
        nint sum = 0;
        for (int i = 0; i < names.Count; i++)
        {
            sum += CAbi.RegisterProc(module, names[i], target);
        }

        return sum;
    }

    /// <summary>The registration loop through <see cref="CAbiFloor.RegisterProc"/>: the same calls into an empty function.</summary>
    public static nint FloorRegisterProcs(byte* module, NativeNames names, nint target)
    {
        nint sum = 0;
        for (int i = 0; i < names.Count; i++)
        {
            sum += CAbiFloor.RegisterProc(module, names[i], target);
        }

        return sum;
    }

    /// <summary>The lookup loop through <see cref="CAbiFloor.Get"/>.</summary>
    public static nint FloorGets(byte* module, NativeNames names)
    {
        nint sum = 0;
        for (int i = 0; i < names.Count; i++)
        {
            sum += CAbiFloor.Get(module, names[i]);
        }

        return sum;
    }

    /// <summary>The global registration loop through <see cref="CAbiFloor.RegisterGlobal"/>.</summary>
    public static nint FloorRegisterGlobals(byte* module, NativeNames names)
    {
        nint sum = 0, block;
        for (int i = 0; i < names.Count; i++)
        {
            sum += CAbiFloor.RegisterGlobal(module, names[i], sizeof(long), 0, &block);
        }

        return sum;
    }

    public static nint RegisterGlobals(byte* module, NativeNames names)
    {
        nint sum = 0, block;
        for (int i = 0; i < names.Count; i++)
        {
            sum += CAbi.RegisterGlobal(module, names[i], sizeof(long), 0, &block);
        }

        return sum;
    }
}
