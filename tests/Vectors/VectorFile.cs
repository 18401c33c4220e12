using System.Globalization;
using HcrLab.Encoders;

namespace HcrLab.Tests.Vectors;

/// <summary>What one vector line asks for.</summary>
public enum VectorKind
{
    /// <summary>Plan a first write and compare the form and bytes.</summary>
    Encode,

    /// <summary>Plan a first write and expect a refusal (<see cref="UnencodableJumpException"/> or <see cref="SlotTooSmallException"/>).</summary>
    Refuse,

    /// <summary>Plan a first write to one target, re-point it to another, and compare the form, bytes and changed range.</summary>
    Repoint,
}

/// <summary>
/// One line of a golden vector file (format in tests/vectors/README.md). A line that does not parse becomes a case with
/// <see cref="ParseError"/> set, so the mistake fails as that line instead of hiding the whole file.
/// </summary>
public sealed record VectorCase
{
    public required string File { get; init; }

    public required int Line { get; init; }

    public required string Text { get; init; }

    public string? ParseError { get; init; }

    public VectorKind Kind { get; init; }

    public InstructionSet Isa { get; init; }

    public PatchMode Mode { get; init; }

    /// <summary>The form the line forces (<c>form=</c>), or null to let the encoder choose.</summary>
    public string? Form { get; init; }

    public ulong Slot { get; init; }

    public ulong Target { get; init; }

    /// <summary>The re-point's new target.</summary>
    public ulong NewTarget { get; init; }

    /// <summary>The length of the buffer handed to Encode (<c>buffer=</c>), or null for exactly the plan's size.</summary>
    public int? Buffer { get; init; }

    public string ExpectedForm { get; init; } = "";

    /// <summary>Expected bytes, lowercase hex in memory order, without the spaces the file groups them with.</summary>
    public string ExpectedHex { get; init; } = "";

    /// <summary>The expected refusal: an <see cref="UnencodableReason"/> name or <c>SlotTooSmall</c>.</summary>
    public string ExpectedError { get; init; } = "";

    /// <summary>The expected changed range of a re-point, as <see cref="ByteRange.ToString"/> writes it.</summary>
    public string ExpectedChanged { get; init; } = "";

    public string Where => $"{File}:{Line}";

    public override string ToString() => Where;
}

/// <summary>Reads golden vector files: one case a line, <c>#</c> starts a comment.</summary>
public static class VectorFile
{
    public const string SlotTooSmall = "SlotTooSmall";

    /// <summary>The directory the test project copies tests/vectors/** to.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "vectors");

    /// <summary>Every case of <c>&lt;cpu&gt;.txt</c>; the file name names the instruction set.</summary>
    public static IEnumerable<VectorCase> Read(string path)
    {
        string file = Path.GetFileName(path);
        var isa = InstructionSetNames.Parse(Path.GetFileNameWithoutExtension(path));
        int number = 0;
        foreach (string raw in System.IO.File.ReadLines(path))
        {
            number++;
            int hash = raw.IndexOf('#', StringComparison.Ordinal);
            string text = (hash < 0 ? raw : raw[..hash]).Trim();
            if (text.Length == 0)
            {
                continue;
            }

            var blank = new VectorCase { File = file, Line = number, Text = text, Isa = isa };
            VectorCase parsed;
            try
            {
                parsed = Parse(blank);
            }
            catch (FormatException e)
            {
                parsed = blank with { ParseError = e.Message };
            }

            yield return parsed;
        }
    }

    private static VectorCase Parse(VectorCase blank)
    {
        string[] parts = blank.Text.Split("->", StringSplitOptions.TrimEntries);
        string[] request = Words(parts[0]);
        if (request.Length > 0 && request[0] == "repoint")
        {
            // repoint <mode> slot=A target=B -> target=C -> <form> <hex...> changed=[...]
            Require(parts.Length == 3, "a repoint line has the shape 'repoint MODE slot=.. target=.. -> target=.. -> FORM HEX changed=[..]'");
            var request2 = Fields(request[1..], out var mode2);
            var newTarget = Fields(Words(parts[1]), out _);
            string[] result = Words(parts[2]);
            Require(result.Length >= 3 && result[^1].StartsWith("changed=", StringComparison.Ordinal), "the result must end with changed=[..]");
            return blank with
            {
                Kind = VectorKind.Repoint,
                Mode = mode2 ?? throw new FormatException("no mode (code or data)"),
                Slot = Address(request2, "slot"),
                Target = Address(request2, "target"),
                NewTarget = Address(newTarget, "target"),
                ExpectedForm = result[0],
                ExpectedHex = Hex(result[1..^1]),
                ExpectedChanged = ChangedRange(result[^1]["changed=".Length..]),
            };
        }

        // [form=F] <mode> slot=A target=B [buffer=N] -> <form> <hex...> | error <Reason>
        Require(parts.Length == 2, "a line has the shape '[form=..] MODE slot=.. target=.. [buffer=N] -> FORM HEX' or '... -> error REASON'");
        var fields = Fields(request, out var mode);
        string[] expected = Words(parts[1]);
        Require(expected.Length >= 2, "the expectation needs a form and bytes, or 'error' and a reason");
        var parsed = blank with
        {
            Mode = mode ?? throw new FormatException("no mode (code or data)"),
            Form = fields.GetValueOrDefault("form"),
            Slot = Address(fields, "slot"),
            Target = Address(fields, "target"),
            Buffer = fields.TryGetValue("buffer", out string? buffer) ? int.Parse(buffer, CultureInfo.InvariantCulture) : null,
        };
        if (expected[0] == "error")
        {
            Require(expected.Length == 2, "'error' takes one reason");
            Require(expected[1] == SlotTooSmall || Enum.TryParse<UnencodableReason>(expected[1], out _), $"unknown reason '{expected[1]}'");
            Require((expected[1] == SlotTooSmall) == parsed.Buffer.HasValue, "buffer=N goes with, and only with, 'error SlotTooSmall'");
            return parsed with { Kind = VectorKind.Refuse, ExpectedError = expected[1] };
        }

        return parsed with { Kind = VectorKind.Encode, ExpectedForm = expected[0], ExpectedHex = Hex(expected[1..]) };
    }

    private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static Dictionary<string, string> Fields(string[] words, out PatchMode? mode)
    {
        mode = null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string word in words)
        {
            switch (word)
            {
                case "code":
                    mode = PatchMode.Code;
                    break;
                case "data":
                    mode = PatchMode.Data;
                    break;
                default:
                    int eq = word.IndexOf('=', StringComparison.Ordinal);
                    Require(eq > 0, $"unexpected word '{word}'");
                    Require(fields.TryAdd(word[..eq], word[(eq + 1)..]), $"'{word[..eq]}' given twice");
                    break;
            }
        }

        return fields;
    }

    private static ulong Address(Dictionary<string, string> fields, string name)
    {
        Require(fields.TryGetValue(name, out string? text), $"no {name}=");
        Require(text!.StartsWith("0x", StringComparison.Ordinal), $"{name} must be hex with 0x");
        Require(ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value), $"bad address '{text}'");
        return value;
    }

    private static string Hex(string[] groups)
    {
        string hex = string.Concat(groups);
        Require(hex.Length > 0 && hex.Length % 2 == 0 && hex.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'),
            $"bytes must be lowercase hex, whole bytes: '{hex}'");
        return hex;
    }

    /// <summary>Accepts <c>[+o,+e)</c> (or with a space after the comma) and <c>[]</c>, normalised to <see cref="ByteRange.ToString"/>.</summary>
    private static string ChangedRange(string text)
    {
        if (text == "[]")
        {
            return text;
        }

        Require(text.StartsWith("[+", StringComparison.Ordinal) && text.EndsWith(')'), $"changed must be [+o,+e) or []: '{text}'");
        string[] ends = text[2..^1].Split(",+", StringSplitOptions.TrimEntries);
        int start = -1, end = -1;
        Require(ends.Length == 2
                && int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out start)
                && int.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out end)
                && end > start,
            $"changed must be [+o,+e) with o < e: '{text}'");
        return new ByteRange(start, end - start).ToString();
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new FormatException(message);
        }
    }
}
