namespace HcrLab.Scenarios;

/// <summary>The C compiler modules are built with is not installed.</summary>
public sealed class CompilerNotFoundException(string compiler)
    : Exception($"'{compiler}' is not on PATH: modules are built with the machine's C compiler; install it (Debian/Ubuntu: apt-get install gcc)")
{
    public string Compiler { get; } = compiler;
}
