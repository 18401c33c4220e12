namespace HcrLab.Scenarios;

/// <summary>
/// What the host writes on standard output, between the modules' own lines: a marker before and after each step. The
/// parent reads it back into the actual transcript, the same shape as <see cref="Scenario.ExpectedTranscript"/>.
/// </summary>
public static class Transcript
{
    /// <summary>Starts every line the host writes for the parent; modules are not expected to print it.</summary>
    public const string Marker = "@@hcr ";

    public static string OutputLine(string text) => "> " + text;

    public static string StepStarted(int index) => $"{Marker}step {index}";

    /// <summary><paramref name="actual"/> is the step's text when it gave what was expected, else what it gave.</summary>
    public static string StepDone(int index, string actual) => $"{Marker}done {index} {actual}";

    public static string End => $"{Marker}end";

    public static string Fault(string message) => $"{Marker}fault {message.ReplaceLineEndings(" ")}";
}
