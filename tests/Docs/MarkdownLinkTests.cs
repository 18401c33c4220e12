using System.Text.RegularExpressions;
using HcrLab.Tests.Native;

namespace HcrLab.Tests.Docs;

/// <summary>
/// The Markdown in a clone links only to what a clone has: every relative link target ([text](path)) and every path
/// written as code that climbs out of its folder (`../x`) exists inside the repository (a folder beside the clone, such
/// as a checkout's ../shared, is not part of it). Web addresses and in-page anchors are not checked.
/// </summary>
[TestFixture]
[Category("Docs")]
public sealed partial class MarkdownLinkTests
{
    private static readonly string[] Skipped = ["bin", "obj", "artifacts", ".git"];

    [Test]
    public void EveryRelativeLinkInTheMarkdownLeadsToAFileOrFolderOfTheRepository()
    {
        string root = NativeToolchain.RepositoryRoot;
        var files = Markdown(new DirectoryInfo(root)).ToList();
        Assert.That(files.Select(file => Path.GetRelativePath(root, file)), Does.Contain("README.md").And.Contain(Path.Combine("runtime", "README.md")));

        var dead = new List<string>();
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            var targets = Link().Matches(text).Select(match => match.Groups[1].Value)
                .Concat(ClimbingCodePath().Matches(text).Select(match => match.Groups[1].Value))
                .Where(target => !Uri.TryCreate(target, UriKind.Absolute, out _) && !target.StartsWith('#'));
            foreach (string target in targets)
            {
                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target.Split('#')[0]));
                bool inside = !Path.GetRelativePath(root, path).StartsWith("..", StringComparison.Ordinal);
                if (!inside || (!File.Exists(path) && !Directory.Exists(path)))
                {
                    dead.Add($"{Path.GetRelativePath(root, file)}: {target}");
                }
            }
        }

        Assert.That(dead, Is.Empty);
    }

    private static IEnumerable<string> Markdown(DirectoryInfo directory) =>
        directory.EnumerateFiles("*.md").Select(file => file.FullName)
            .Concat(directory.EnumerateDirectories().Where(sub => !Skipped.Contains(sub.Name)).SelectMany(Markdown));

    /// <summary>[text](target), the target without spaces or a title.</summary>
    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    /// <summary>`../path`: a path out of the file's folder, written as code.</summary>
    [GeneratedRegex(@"`(\.\./[^`\s]+)`")]
    private static partial Regex ClimbingCodePath();
}
