using System.Security.Cryptography;

namespace HcrLab.Scenarios;

/// <summary>
/// What the host writes on standard output, between the modules' own lines: a marker before and after each step. The
/// parent reads it back into the actual transcript, the same shape as <see cref="Scenario.ExpectedTranscript"/>.
/// Modules print to the same stream, so every marker carries a key the parent drew at random for this run and handed
/// to the host on standard input before any module was loaded (not on the command line or in the environment, which
/// the modules could read): a module that prints marker lines, by accident or to forge a verdict, prints output.
/// </summary>
public sealed class Transcript
{
    /// <summary>The key's length: 128 random bits in lowercase hex.</summary>
    public const int KeyLength = 32;

    /// <exception cref="ArgumentException"><paramref name="key"/> is not <see cref="KeyLength"/> lowercase hex digits.</exception>
    public Transcript(string key)
    {
        if (key.Length != KeyLength || !key.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException($"a run key is {KeyLength} lowercase hex digits", nameof(key));
        }

        Marker = $"@@hcr:{key} ";
    }

    /// <summary>Starts every line the host writes for the parent.</summary>
    public string Marker { get; }

    /// <summary>A fresh key for one run.</summary>
    public static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(KeyLength / 2));

    public static string OutputLine(string text) => "> " + text;

    public string StepStarted(int index) => $"{Marker}step {index}";

    /// <summary><paramref name="actual"/> is the step's text when it gave what was expected, else what it gave.</summary>
    public string StepDone(int index, string actual) => $"{Marker}done {index} {actual}";

    public string End => $"{Marker}end";

    public string Fault(string message) => $"{Marker}fault {message.ReplaceLineEndings(" ")}";
}
