namespace HcrLab.Scenarios;

/// <summary>A module failed to compile; <see cref="CompilerOutput"/> is what the compiler said.</summary>
public sealed class ModuleBuildException(string source, string command, int exitCode, string compilerOutput)
    : Exception($"{source} does not compile (exit code {exitCode}):\n{command}\n{compilerOutput}")
{
    public string SourceFile { get; } = source;

    public string Command { get; } = command;

    public int ExitCode { get; } = exitCode;

    public string CompilerOutput { get; } = compilerOutput;
}
