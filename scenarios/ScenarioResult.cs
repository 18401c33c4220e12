namespace HcrLab.Scenarios;

/// <summary>How a scenario ended.</summary>
/// <param name="Name">The scenario's folder name.</param>
/// <param name="Passed">Every step gave what was expected, with exactly the expected output, and the host ended normally.</param>
/// <param name="Duration">Build and run, wall-clock.</param>
/// <param name="Failure">Why it failed, in one paragraph (a malformed steps file, a module that does not compile, a crash, a mismatch); null when passed.</param>
/// <param name="Diff">A unified diff of the expected and the actual transcript; null when they are equal.</param>
/// <param name="ActualTranscript">The steps as they ran and the output lines, as far as the host got.</param>
/// <param name="StandardError">What the host wrote to standard error (the runtime's diagnostics and bad-call lines).</param>
public sealed record ScenarioResult(
    string Name,
    bool Passed,
    TimeSpan Duration,
    string? Failure,
    string? Diff,
    IReadOnlyList<string> ActualTranscript,
    string StandardError)
{
    public static ScenarioResult Failed(string name, TimeSpan duration, string failure) => new(name, false, duration, failure, null, [], "");
}
