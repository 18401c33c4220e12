using System.Text;

namespace HcrLab.Lab.External;

/// <summary>
/// How <c>--encoder 'COMMAND'</c> becomes a process. COMMAND is split into words the way a POSIX shell splits a simple
/// command — blanks separate words; single quotes keep everything literally; double quotes keep everything but
/// <c>\"</c> and <c>\\</c>; a backslash outside quotes keeps the next character — and the first word is run directly,
/// without a shell. Only when COMMAND holds an unquoted shell operator or expansion (<c>| &amp; ; &lt; &gt; ( ) $ ` * ? [ ~ {</c>
/// or a newline) does it run as <c>/bin/sh -c COMMAND</c>, since only a shell can give those their meaning.
/// </summary>
public sealed record EncoderCommandLine(string Program, IReadOnlyList<string> Arguments, bool ViaShell)
{
    private const string ShellSyntax = "|&;<>()$`*?[~{\n";

    /// <exception cref="FormatException">COMMAND is empty or has an unterminated quote.</exception>
    public static EncoderCommandLine Parse(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        bool needsShell = false;
        for (int i = 0; i < command.Length; i++)
        {
            char c = command[i];
            if (c == '\'')
            {
                int end = command.IndexOf('\'', i + 1);
                if (end < 0)
                {
                    throw new FormatException($"--encoder: unterminated single quote in '{command}'");
                }

                word.Append(command, i + 1, end - i - 1);
                inWord = true;
                i = end;
            }
            else if (c == '"')
            {
                i = ReadDoubleQuoted(command, i, word);
                inWord = true;
            }
            else if (c == '\\' && i + 1 < command.Length)
            {
                word.Append(command[++i]);
                inWord = true;
            }
            else if (c is ' ' or '\t')
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                needsShell |= ShellSyntax.Contains(c) || (c == '#' && !inWord);
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        if (needsShell)
        {
            return new EncoderCommandLine("/bin/sh", ["-c", command], ViaShell: true);
        }

        return words.Count == 0
            ? throw new FormatException("--encoder: the command is empty")
            : new EncoderCommandLine(words[0], words[1..], ViaShell: false);
    }

    public override string ToString() => ViaShell ? $"/bin/sh -c {Arguments[1]}" : string.Join(' ', [Program, .. Arguments]);

    private static int ReadDoubleQuoted(string command, int start, StringBuilder word)
    {
        for (int i = start + 1; i < command.Length; i++)
        {
            char c = command[i];
            if (c == '"')
            {
                return i;
            }

            if (c == '\\' && i + 1 < command.Length && command[i + 1] is '"' or '\\')
            {
                c = command[++i];
            }

            word.Append(c);
        }

        throw new FormatException($"--encoder: unterminated double quote in '{command}'");
    }
}
