using System.Text;
using DiffPlex;

namespace HcrLab.Scenarios;

/// <summary>A unified diff of two lists of lines, in memory linear in their lengths.</summary>
public static class UnifiedDiff
{
    public static string Create(IReadOnlyList<string> expected, IReadOnlyList<string> actual, string expectedName = "expected",
        string actualName = "actual", int context = 3)
    {
        var edits = Edits(expected, actual);
        var text = new StringBuilder().Append("--- ").AppendLine(expectedName).Append("+++ ").AppendLine(actualName);
        int i = 0;
        while (i < edits.Count)
        {
            if (edits[i].Kind == ' ')
            {
                i++;
                continue;
            }

            // A hunk: from `context` lines before this change to `context` lines after the last change within reach.
            int start = Math.Max(0, i - context);
            int end = i;
            for (int j = i; j < edits.Count; j++)
            {
                if (edits[j].Kind != ' ')
                {
                    end = j;
                }
                else if (j - end > 2 * context)
                {
                    break;
                }
            }

            end = Math.Min(edits.Count - 1, end + context);
            var hunk = edits.Skip(start).Take(end - start + 1).ToList();
            int oldCount = hunk.Count(e => e.Kind != '+');
            int newCount = hunk.Count(e => e.Kind != '-');
            text.Append("@@ -").Append(Range(hunk[0].Old, oldCount)).Append(" +").Append(Range(hunk[0].New, newCount)).AppendLine(" @@");
            foreach (var edit in hunk)
            {
                text.Append(edit.Kind).AppendLine(edit.Text);
            }

            i = end + 1;
        }

        return text.ToString();
    }

    // Unified diff ranges are 1-based; an empty range names the line before it.
    private static string Range(int start, int count) => count == 0 ? $"{start},0" : count == 1 ? $"{start + 1}" : $"{start + 1},{count}";

    /// <summary>
    /// The edit script from DiffPlex (Myers' O(ND) algorithm in linear memory): its blocks of deleted and inserted lines,
    /// with the equal lines between them, deletions before insertions as unified diffs show them.
    /// </summary>
    private static List<(char Kind, string Text, int Old, int New)> Edits(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var result = Differ.Instance.CreateDiffs(Joined(a), Joined(b), ignoreWhiteSpace: false, ignoreCase: false, LineChunker.Instance);
        var edits = new List<(char, string, int, int)>();
        int x = 0, y = 0;
        foreach (var block in result.DiffBlocks)
        {
            while (x < block.DeleteStartA)
            {
                edits.Add((' ', a[x], x++, y++));
            }

            for (int i = 0; i < block.DeleteCountA; i++)
            {
                edits.Add(('-', a[x], x++, y));
            }

            for (int i = 0; i < block.InsertCountB; i++)
            {
                edits.Add(('+', b[y], x, y++));
            }
        }

        while (x < a.Count)
        {
            edits.Add((' ', a[x], x++, y++));
        }

        return edits;
    }

    // Every line ends with '\n' so that no lines and one empty line differ; the chunker drops what follows the last.
    private static string Joined(IReadOnlyList<string> lines) => string.Concat(lines.Select(line => line + "\n"));

    /// <summary>Splits at '\n' only (transcript lines hold no other line ending), so chunk k is line k.</summary>
    private sealed class LineChunker : IChunker
    {
        public static readonly LineChunker Instance = new();

        public IReadOnlyList<string> Chunk(string text) => text.Split('\n')[..^1];
    }
}
