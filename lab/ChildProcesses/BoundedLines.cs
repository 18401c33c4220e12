using System.Text;

namespace HcrLab.Lab.ChildProcesses;

/// <summary>A line read by <see cref="BoundedLines.Read"/>: all of it, or, when <paramref name="Overlong"/>, only its start.</summary>
public readonly record struct BoundedLine(string Text, bool Overlong);

/// <summary>
/// Lines of text from a reader that is not trusted to send short ones (a child's output, standard input): a line longer
/// than the limit is never held whole; its start is kept (for a message to show) and the rest is read and dropped.
/// </summary>
public static class BoundedLines
{
    /// <summary>
    /// The lines of <paramref name="reader"/>, split at <c>\n</c> with a trailing <c>\r</c> removed; a last line without
    /// <c>\n</c> counts when <paramref name="unterminatedLastLine"/> is set (as <see cref="TextReader.ReadLine"/> does).
    /// A line over <paramref name="maxChars"/> arrives once, as its first <paramref name="maxChars"/>
    /// characters with <see cref="BoundedLine.Overlong"/> set.
    /// </summary>
    public static IEnumerable<BoundedLine> Read(TextReader reader, int maxChars, bool unterminatedLastLine)
    {
        var current = new StringBuilder();
        bool overlong = false, any = false;
        var buffer = new char[4096];
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                char c = buffer[i];
                if (c == '\n')
                {
                    yield return new BoundedLine(overlong ? current.ToString() : current.ToString().TrimEnd('\r'), overlong);
                    current.Clear();
                    overlong = any = false;
                }
                else if (current.Length < maxChars)
                {
                    current.Append(c);
                    any = true;
                }
                else
                {
                    overlong = true;
                }
            }
        }

        if (unterminatedLastLine && (any || overlong))
        {
            yield return new BoundedLine(overlong ? current.ToString() : current.ToString().TrimEnd('\r'), overlong);
        }
    }
}
