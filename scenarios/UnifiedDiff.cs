using System.Text;

namespace HcrLab.Scenarios;

/// <summary>A unified diff of two lists of lines (longest common subsequence; transcripts are a few hundred lines at most).</summary>
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

    private static List<(char Kind, string Text, int Old, int New)> Edits(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        int[,] common = new int[a.Count + 1, b.Count + 1];
        for (int i = a.Count - 1; i >= 0; i--)
        {
            for (int j = b.Count - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var edits = new List<(char, string, int, int)>();
        int x = 0, y = 0;
        while (x < a.Count || y < b.Count)
        {
            if (x < a.Count && y < b.Count && a[x] == b[y])
            {
                edits.Add((' ', a[x], x++, y++));
            }
            else if (x < a.Count && (y == b.Count || common[x + 1, y] >= common[x, y + 1]))
            {
                edits.Add(('-', a[x], x++, y));
            }
            else
            {
                edits.Add(('+', b[y], x, y++));
            }
        }

        return edits;
    }
}
