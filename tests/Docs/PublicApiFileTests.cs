using HcrLab.Tests.Native;

namespace HcrLab.Tests.Docs;

/// <summary>
/// The libraries' declared public API (PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt, read by
/// Microsoft.CodeAnalysis.PublicApiAnalyzers) stays in the order the analyzer's own fix keeps, so a change of the public
/// surface is a diff of a few lines and the fix inserts new lines where a reviewer expects them. That fix (roslyn,
/// DeclarePublicApiFix) inserts each line before the first line that compares greater under OrdinalIgnoreCase, ties
/// broken by Ordinal; a file sorted that way stays sorted. The analyzer itself checks what the files list (RS0016,
/// RS0017 fail the build); these tests check only their shape.
/// </summary>
[TestFixture]
[Category("Docs")]
public sealed class PublicApiFileTests
{
    private const string NullableHeader = "#nullable enable";

    private static readonly string[] Libraries = ["encoders", "runtime"];

    private static readonly Comparison<string> AnalyzerOrder = (x, y) =>
    {
        int result = StringComparer.OrdinalIgnoreCase.Compare(x, y);
        return result != 0 ? result : StringComparer.Ordinal.Compare(x, y);
    };

    [TestCaseSource(nameof(Files))]
    public void StartsWithTheNullableHeaderAndIsInTheAnalyzersOrder(string relativePath)
    {
        var lines = Lines(relativePath);

        Assert.That(lines, Is.Not.Empty.And.Unique, relativePath);
        Assert.That(lines[0], Is.EqualTo(NullableHeader), "the analyzer tracks nullability only with this first line");
        // '#' sorts before every letter and '*' (of *REMOVED*), so the header is first in this order as well.
        var sorted = lines.ToList();
        sorted.Sort(AnalyzerOrder);
        Assert.That(lines, Is.EqualTo(sorted), $"{relativePath} is not in the order the analyzer's fix keeps; see README.md, Conventions");
    }

    [TestCaseSource(nameof(Libraries))]
    public void NoEntryIsBothShippedAndUnshipped(string library)
    {
        var shipped = Lines(Path.Combine(library, "PublicAPI.Shipped.txt")).Skip(1);
        var unshipped = Lines(Path.Combine(library, "PublicAPI.Unshipped.txt")).Skip(1);

        Assert.That(shipped.Intersect(unshipped, StringComparer.Ordinal), Is.Empty);
    }

    private static IEnumerable<string> Files() =>
        Libraries.SelectMany(library => new[] { "Shipped", "Unshipped" }.Select(kind => Path.Combine(library, $"PublicAPI.{kind}.txt")));

    /// <summary>The file's lines without blank ones, which the analyzer ignores.</summary>
    private static List<string> Lines(string relativePath) =>
        [.. File.ReadAllLines(Path.Combine(NativeToolchain.RepositoryRoot, relativePath)).Where(line => !string.IsNullOrWhiteSpace(line))];
}
