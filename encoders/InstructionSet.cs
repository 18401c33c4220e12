namespace HcrLab.Encoders;

/// <summary>
/// The instruction set a jump slot is executed in. ARM is two entries because A32 and Thumb-2 code have different
/// encodings, program-counter biases and alignment, although one CPU runs both.
/// </summary>
public enum InstructionSet
{
    I386,
    Amd64,
    A32,
    Thumb,
    Arm64,
}

/// <summary>The short names used on the command line and in reports (<c>i386</c>, <c>amd64</c>, <c>arm</c>, <c>thumb</c>, <c>arm64</c>).</summary>
public static class InstructionSetNames
{
    private static readonly (InstructionSet Isa, string Name)[] Names =
    [
        (InstructionSet.I386, "i386"),
        (InstructionSet.Amd64, "amd64"),
        (InstructionSet.A32, "arm"),
        (InstructionSet.Thumb, "thumb"),
        (InstructionSet.Arm64, "arm64"),
    ];

    /// <summary>Every instruction set, in the order reports list them.</summary>
    public static IReadOnlyList<InstructionSet> All { get; } = [.. Names.Select(n => n.Isa)];

    public static string ShortName(this InstructionSet isa) => Names.First(n => n.Isa == isa).Name;

    public static bool TryParse(string text, out InstructionSet isa)
    {
        foreach (var (candidate, name) in Names)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                isa = candidate;
                return true;
            }
        }

        isa = default;
        return false;
    }

    public static InstructionSet Parse(string text) =>
        TryParse(text, out var isa)
            ? isa
            : throw new ArgumentException(
                $"unknown architecture '{text}'; expected one of {string.Join(", ", Names.Select(n => n.Name))}");
}
