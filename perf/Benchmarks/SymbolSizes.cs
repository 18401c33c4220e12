namespace HcrLab.Perf.Benchmarks;

/// <summary>The table sizes of issue 4: distinct names in one module.</summary>
public static class SymbolSizes
{
    public const int Small = 1_000;
    public const int Medium = 100_000;
    public const int Large = 1_000_000;

    /// <summary>The module every symbol benchmark registers under.</summary>
    public const string Module = "bench";
}
