namespace HcrLab.Scenarios;

/// <summary>Finds the scenarios folder (the one holding <c>include/hcr.h</c>) and the scenarios in it.</summary>
public static class ScenarioCatalog
{
    /// <summary>An environment variable that names the scenarios folder, for runs outside a clone.</summary>
    public const string RootVariable = "HCRLAB_SCENARIOS";

    public static string IncludeDirectory(string root) => Path.Combine(root, "include");

    /// <summary>
    /// The scenarios folder: <see cref="RootVariable"/> when set, else the first <c>scenarios/</c> with
    /// <c>include/hcr.h</c> found walking up from the current directory, then from this assembly's directory.
    /// </summary>
    public static string? FindRoot()
    {
        if (Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured);
        }

        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                foreach (string candidate in new[] { directory.FullName, Path.Combine(directory.FullName, "scenarios") })
                {
                    if (File.Exists(Path.Combine(candidate, "include", "hcr.h")) && Path.GetFileName(candidate) == "scenarios")
                    {
                        return candidate;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The scenario folders under <paramref name="root"/> (those with a steps file), in name order. A folder whose steps
    /// file cannot be looked for (the folder is not readable) is listed too, so that running it fails and says why
    /// instead of the scenario silently dropping out of <c>--all</c>.
    /// </summary>
    public static IReadOnlyList<string> List(string root) =>
        [.. Directory.EnumerateDirectories(root).Where(MayBeScenario).Order(StringComparer.Ordinal)];

    private static bool MayBeScenario(string folder)
    {
        try
        {
            _ = UnixFile.OfLink(Path.Combine(folder, Scenario.StepsFileName));
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
