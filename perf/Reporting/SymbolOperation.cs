namespace HcrLab.Perf.Reporting;

/// <summary>
/// One registration or lookup through the C ABI, as the symbol suites, the C anchor (<c>op</c>) and the reports name it:
/// the benchmark method, a label a reader understands, and its floor (the same loop into an empty function of the same
/// signature, measured in the same run).
/// </summary>
public sealed record SymbolOperation(string Method, string Label, string Floor)
{
    /// <summary>The table sizes every symbol suite runs at (SymbolSizes).</summary>
    public static readonly int[] Sizes = [1_000, 100_000, 1_000_000];

    public static readonly SymbolOperation[] All =
    [
        new("RegisterProcNew", "register proc, new name", "FloorRegisterProcNew"),
        new("RegisterProcExisting", "register proc, existing name", "FloorRegisterProc"),
        new("GetProc", "get proc", "FloorGet"),
        new("RegisterGlobalNew", "register global, new name", "FloorRegisterGlobalNew"),
        new("RegisterGlobalExisting", "register global, existing name", "FloorRegisterGlobal"),
        new("GetGlobal", "get global", "FloorGet"),
    ];
}
