namespace HcrLab.Encoders;

/// <summary>
/// The instruction set a jump slot is executed in. ARM is two entries because A32 and Thumb-2 code have different
/// encodings, program-counter biases and alignment, although one CPU runs both.
/// </summary>
public enum InstructionSet
{
    /// <summary>32-bit x86.</summary>
    I386,

    /// <summary>x86-64.</summary>
    Amd64,

    /// <summary>32-bit ARM in ARM state (A32).</summary>
    A32,

    /// <summary>32-bit ARM in Thumb state (Thumb-2, T32).</summary>
    Thumb,

    /// <summary>AArch64 (A64).</summary>
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

    /// <summary>The short name of <paramref name="isa"/>, e.g. <c>amd64</c>.</summary>
    public static string ShortName(this InstructionSet isa) => Names.First(n => n.Isa == isa).Name;

    /// <summary>Reads a short name, ignoring case; false when <paramref name="text"/> names no instruction set.</summary>
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

    /// <summary>Reads a short name, ignoring case; throws <see cref="ArgumentException"/> (listing the names) when <paramref name="text"/> names none.</summary>
    public static InstructionSet Parse(string text) =>
        TryParse(text, out var isa)
            ? isa
            : throw new ArgumentException(
                $"unknown architecture '{text}'; expected one of {string.Join(", ", Names.Select(n => n.Name))}");
}
