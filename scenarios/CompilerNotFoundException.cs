namespace HcrLab.Scenarios;

/// <summary>The C compiler modules are built with is not installed.</summary>
public sealed class CompilerNotFoundException(string compiler)
    : Exception($"'{compiler}' is not on PATH: modules are built with the machine's C compiler; install it (Debian/Ubuntu: apt-get install {Package(compiler)})")
{
    public string Compiler { get; } = compiler;

    /// <summary>Debian's package for a compiler: gcc, or a cross compiler's gcc-TRIPLE (gcc-aarch64-linux-gnu).</summary>
    private static string Package(string compiler) =>
        compiler.EndsWith("-gcc", StringComparison.Ordinal) ? $"gcc-{compiler[..^4].Replace('_', '-')}" : compiler;
}
