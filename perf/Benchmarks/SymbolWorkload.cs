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
