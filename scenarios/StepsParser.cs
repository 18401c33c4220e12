using System.Globalization;

namespace HcrLab.Scenarios;

/// <summary>
/// Reads a steps file (scenarios/README.md): one step a line, words separated by spaces, <c>-&gt;</c> before what the step
/// must give; <c>&gt; text</c> lines after a step are the output it must print; <c>#</c> starts a comment line. Any other
/// line is a <see cref="StepsFileException"/> naming the file and line.
/// </summary>
public static class StepsParser
{
    public const string Arrow = "->";

    /// <summary>The most integer arguments a <c>call</c> step passes.</summary>
    public const int MaxArguments = 6;

    /// <summary>The step keywords, in the order the README lists them.</summary>
    public static IReadOnlyList<string> Keywords { get; } =
        ["use", "start", "call", "global", "reload-needed", "reload", "bad-call", "generation", "modules", "main-handlers"];

    public static IReadOnlyList<ScenarioStep> ParseFile(string path) => Parse(BoundedFile.ReadAllText(path, Scenario.MaxStepsFileBytes), path);

    /// <param name="text">The steps file's contents.</param>
    /// <param name="file">The name errors give for the file.</param>
    /// <exception cref="StepsFileException">A line is not a step, an output line or a comment; or there is no step at all.</exception>
    public static IReadOnlyList<ScenarioStep> Parse(string text, string file)
    {
        var steps = new List<ScenarioStep>();
        var output = new List<string>();
        string[] lines = text.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int number = i + 1;
            if (line.StartsWith('>'))
            {
                if (steps.Count == 0)
                {
                    throw new StepsFileException(file, number, "an output line ('> text') must follow a step");
                }

                output.Add(line.Length > 1 && line[1] == ' ' ? line[2..] : line[1..]);
                continue;
            }

            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                continue;
            }

            Flush();
            steps.Add(ParseStep(trimmed, file, number));
        }

        Flush();

        // A scenario that checks nothing would pass vacuously.
        return steps.Count > 0 ? steps : throw new StepsFileException(file, lines.Length, "no steps: a scenario needs at least one step");

        void Flush()
        {
            if (steps.Count > 0 && output.Count > 0)
            {
                steps[^1] = steps[^1] with { ExpectedOutput = [.. steps[^1].ExpectedOutput, .. output] };
            }

            output.Clear();
        }
    }

    private static ScenarioStep ParseStep(string line, string file, int number)
    {
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string text = string.Join(' ', words);
        int arrow = Array.IndexOf(words, Arrow);
        string[] left = arrow < 0 ? words : words[..arrow];
        string[]? right = arrow < 0 ? null : words[(arrow + 1)..];
        string keyword = left[0];
        string[] args = left[1..];

        switch (keyword)
        {
            case "use":
                Require(args.Length == 2 && right is null, "use MODULE vN");
                Require(args[1].Length > 1 && args[1][0] == 'v' && int.TryParse(args[1][1..], NumberStyles.None, CultureInfo.InvariantCulture, out _),
                    "use MODULE vN (a version is 'v' and a number, e.g. v2)");
                return new UseStep(number, text, Name(args[0]), int.Parse(args[1][1..], CultureInfo.InvariantCulture));

            case "start":
                Require(args.Length >= 1, "start MODULE... [-> error [MODULE][: TEXT]]");
                return new StartStep(number, text, [.. args.Select(Name)], right is null ? null : Error(right, allowModule: true));

            case "call":
            {
                Require(args.Length >= 2, "call MODULE PROC [INTEGER...] [-> INTEGER | -> error: TEXT]");
                Require(args.Length - 2 <= MaxArguments, $"a call takes at most {MaxArguments} arguments");
                long[] arguments = [.. args[2..].Select(Integer)];
                if (right is not null && IsError(right))
                {
                    return new CallStep(number, text, Name(args[0]), Name(args[1]), arguments, null, Error(right, allowModule: false));
                }

                Require(right is null || right.Length == 1, "call MODULE PROC [INTEGER...] -> INTEGER");
                return new CallStep(number, text, Name(args[0]), Name(args[1]), arguments, right is null ? null : Integer(right[0]), null);
            }

            case "global":
                Require(args.Length == 2 && right is { Length: > 0 }, "global MODULE NAME -> INTEGER | -> error: TEXT");
                return IsError(right!)
                    ? new GlobalStep(number, text, Name(args[0]), Name(args[1]), null, Error(right!, allowModule: false))
                    : new GlobalStep(number, text, Name(args[0]), Name(args[1]), SingleInteger(right!), null);

            case "reload-needed":
                Require(args.Length == 0 && right is ["yes" or "no"], "reload-needed -> yes|no");
                return new ReloadNeededStep(number, text, right![0] == "yes");

            case "reload":
                Require(args.Length == 0, "reload [-> unchanged | -> loaded MODULE... [unloaded MODULE...] | -> error MODULE[: TEXT]]");
                return new ReloadStep(number, text, right is null ? ReloadExpectation.AnyChange : Reload(right));

            case "bad-call":
                Require(args.Length == 2 && right is null, "bad-call MODULE PROC");
                return new BadCallStep(number, text, Name(args[0]), Name(args[1]));

            case "generation":
                Require(args.Length == 0 && right is { Length: 1 }, "generation -> INTEGER");
                return new GenerationStep(number, text, SingleInteger(right!));

            case "modules":
                Require(args.Length == 0 && right is { Length: > 0 }, "modules -> MODULE... | -> none");
                return new ModulesStep(number, text, right is ["none"] ? [] : [.. right!.Select(Name)]);

            case "main-handlers":
                Require(args.Length == 0 && right is null, "main-handlers");
                return new MainHandlersStep(number, text);

            default:
                throw new StepsFileException(file, number, $"unknown step '{keyword}'; a step is one of: {string.Join(", ", Keywords)}");
        }

        void Require(bool condition, string usage)
        {
            if (!condition)
            {
                throw new StepsFileException(file, number, $"'{text}' is not a {keyword} step: write {usage}");
            }
        }

        // Module names become file names (a.v1.so, the runtime's copies) and names of procs and globals are C's:
        // identifiers only, so that no name can reach outside the work folder ('/abs/path', '..').
        string Name(string word)
        {
            Require(word != Arrow, "a name before '->'");
            if (!IsIdentifier(word))
            {
                throw new StepsFileException(file, number, $"'{word}' is not a name: module, proc and global names are identifiers (ASCII letters, digits and '_', not starting with a digit)");
            }

            return word;
        }

        long Integer(string word)
        {
            bool negative = word.StartsWith('-');
            string body = negative ? word[1..] : word;
            bool hex = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
            bool parsed = hex
                ? ulong.TryParse(body[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong magnitude)
                : ulong.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude);

            // Hexadecimal may spell any 64-bit pattern (0xffffffffffffffff is -1); decimal must be in range.
            if (parsed && !negative && (hex || magnitude <= long.MaxValue))
            {
                return unchecked((long)magnitude);
            }

            if (parsed && negative && magnitude <= (ulong)long.MaxValue + 1)
            {
                return unchecked(-(long)magnitude);
            }

            throw new StepsFileException(file, number, $"'{word}' is not a 64-bit integer (decimal, or hexadecimal with 0x)");
        }

        long SingleInteger(string[] words)
        {
            Require(words.Length == 1, $"{keyword} ... -> INTEGER");
            return Integer(words[0]);
        }

        static bool IsIdentifier(string word) =>
            word.Length > 0 && !char.IsAsciiDigit(word[0]) && word.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

        static bool IsError(string[] words) => words.Length > 0 && (words[0] == "error" || words[0].StartsWith("error:", StringComparison.Ordinal));

        // error | error: TEXT | error MODULE | error MODULE: TEXT
        ExpectedError Error(string[] words, bool allowModule)
        {
            Require(IsError(words), allowModule ? "... -> error [MODULE][: TEXT]" : "... -> error: TEXT");
            string rest = string.Join(' ', words)["error".Length..].Trim();
            if (rest.Length == 0)
            {
                return new ExpectedError(null, null);
            }

            if (rest.StartsWith(':'))
            {
                return new ExpectedError(null, NonEmpty(rest[1..].Trim()));
            }

            Require(allowModule, "... -> error: TEXT (only start and reload name a module)");
            int colon = rest.IndexOf(':', StringComparison.Ordinal);
            string module = colon < 0 ? rest : rest[..colon].Trim();
            Require(module.Length > 0 && !module.Contains(' ', StringComparison.Ordinal), "... -> error MODULE: TEXT (one module name)");
            return new ExpectedError(module, colon < 0 ? null : NonEmpty(rest[(colon + 1)..].Trim()));
        }

        string NonEmpty(string part)
        {
            Require(part.Length > 0, "... -> error: TEXT (the text after ':' is not empty)");
            return part;
        }

        ReloadExpectation Reload(string[] words)
        {
            switch (words)
            {
                case ["unchanged"]:
                    return ReloadExpectation.Unchanged;
                case [var first, ..] when IsError(words) && first.Length > 0:
                    return new ReloadExpectation(ReloadExpectationKind.Error, [], [], Error(words, allowModule: true));
                case ["loaded", .. var names]:
                {
                    int split = Array.IndexOf(names, "unloaded");
                    string[] loaded = split < 0 ? names : names[..split];
                    string[] unloaded = split < 0 ? [] : names[(split + 1)..];
                    Require(loaded.Length > 0 && (split < 0 || unloaded.Length > 0),
                        "reload -> loaded MODULE... [unloaded MODULE...]");
                    return new ReloadExpectation(ReloadExpectationKind.Exactly, [.. loaded.Select(Name)], [.. unloaded.Select(Name)], null);
                }

                default:
                    Require(false, "reload [-> unchanged | -> loaded MODULE... [unloaded MODULE...] | -> error MODULE[: TEXT]]");
                    return null!;
            }
        }
    }
}
