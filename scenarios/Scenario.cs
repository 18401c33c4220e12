namespace HcrLab.Scenarios;

/// <summary>A scenario: a folder of numbered module versions (<c>a.v1.c</c>, <c>a.v2.c</c>, ...) and its steps file.</summary>
public sealed record Scenario(string Name, string Directory, string StepsPath, IReadOnlyList<ScenarioStep> Steps)
{
    public const string StepsFileName = "steps.hcr";

    /// <summary>The largest steps file read (the shipped ones are a few kilobytes).</summary>
    public const long MaxStepsFileBytes = 1 << 20;

    /// <summary>Reads <c>steps.hcr</c> in <paramref name="directory"/>.</summary>
    /// <exception cref="StepsFileException">A malformed line.</exception>
    /// <exception cref="FileNotFoundException">The folder has no steps file.</exception>
    /// <exception cref="UnreadableFileException">The steps file cannot be read, is not a regular file, or is too large.</exception>
    public static Scenario Load(string directory)
    {
        string full = Path.GetFullPath(directory);
        string steps = Path.Combine(full, StepsFileName);
        try
        {
            _ = UnixFile.OfLink(steps);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"{full} has no {StepsFileName}: it is not a scenario", steps);
        }
        catch (IOException e)
        {
            throw new UnreadableFileException(steps, $"it cannot be examined ({e.Message})");
        }

        return new Scenario(Path.GetFileName(full), full, steps, StepsParser.Parse(BoundedFile.ReadAllText(steps, MaxStepsFileBytes), Path.Combine(Path.GetFileName(full), StepsFileName)));
    }

    /// <summary>The (module, version) pairs its <c>use</c> steps put in place, first use first.</summary>
    public IReadOnlyList<UseStep> Versions => [.. Steps.OfType<UseStep>().DistinctBy(s => (s.Module, s.Version))];

    /// <summary>The expected transcript: each step's text and the output lines expected after it.</summary>
    public IReadOnlyList<string> ExpectedTranscript =>
        [.. Steps.SelectMany(step => (IEnumerable<string>)[step.Text, .. step.ExpectedOutput.Select(Transcript.OutputLine)])];
}
