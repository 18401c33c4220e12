using System.Runtime.Versioning;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// A scenarios folder written by a test: <c>include/hcr.h</c> copied from the real one and the given files, in a
/// fresh temporary folder created 0700 (<see cref="Directory.CreateTempSubdirectory"/>), removed on dispose.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed class ScratchScenarios : IDisposable
{
    public static readonly string RealRoot = ScenarioCatalog.FindRoot()
        ?? throw new InvalidOperationException("no scenarios/ folder with include/hcr.h above the test directory");

    public ScratchScenarios(params (string Scenario, string File, string Text)[] files)
    {
        Root = Directory.CreateTempSubdirectory("hcrlab-scenario-tests-").FullName;
        Directory.CreateDirectory(Path.Combine(Root, "include"));
        File.Copy(Path.Combine(RealRoot, "include", "hcr.h"), Path.Combine(Root, "include", "hcr.h"));
        foreach (var (scenario, file, text) in files)
        {
            Directory.CreateDirectory(Path.Combine(Root, scenario));
            File.WriteAllText(Path.Combine(Root, scenario, file), text + "\n");
        }
    }

    public string Root { get; }

    public string Folder(string scenario) => Path.Combine(Root, scenario);

    public void Dispose()
    {
        MakeOwnersAgain(Root);
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>A test may have made a folder unreadable; give each back to its owner, top down, so it can be removed.</summary>
    private static void MakeOwnersAgain(string folder)
    {
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (string child in Directory.EnumerateDirectories(folder))
        {
            if (!File.GetAttributes(child).HasFlag(FileAttributes.ReparsePoint))
            {
                MakeOwnersAgain(child);
            }
        }
    }
}
