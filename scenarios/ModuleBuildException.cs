namespace HcrLab.Scenarios;

/// <summary>
/// A module failed to compile; <see cref="How"/> says how the compiler ended ("exit code 1", or killed at its time
/// limit) and <see cref="CompilerOutput"/> what it said.
/// </summary>
public sealed class ModuleBuildException(string source, string command, string how, string compilerOutput)
    : Exception($"{source} does not compile ({how}):\n{command}\n{compilerOutput}")
{
    public string SourceFile { get; } = source;

    public string Command { get; } = command;

    public string How { get; } = how;

    public string CompilerOutput { get; } = compilerOutput;
}
