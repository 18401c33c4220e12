using HcrLab.Encoders;

namespace HcrLab.Lab.Cli;

/// <summary>
/// <c>--arch</c> as people type it: the lab's names in any case, and the names other tools use for the same instruction
/// set (uname and LLVM triples: <c>x86_64</c>, <c>i686</c>, <c>aarch64</c>; cstool/kstool: <c>x64</c>; ARM's own
/// <c>A32</c>/<c>T32</c>). A name that means two instruction sets in common use is refused with both readings.
/// </summary>
public static class ArchitectureNames
{
    private static readonly Dictionary<string, InstructionSet> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["i686"] = InstructionSet.I386,
        ["ia32"] = InstructionSet.I386,
        ["x86_64"] = InstructionSet.Amd64,
        ["x86-64"] = InstructionSet.Amd64,
        ["x64"] = InstructionSet.Amd64,
        ["a32"] = InstructionSet.A32,
        ["arm32"] = InstructionSet.A32,
        ["t32"] = InstructionSet.Thumb,
        ["thumb2"] = InstructionSet.Thumb,
        ["aarch64"] = InstructionSet.Arm64,
    };

    /// <summary>Names refused because they are read both ways (the user must pick), with the two readings.</summary>
    private static readonly Dictionary<string, string> Ambiguous = new(StringComparer.OrdinalIgnoreCase)
    {
        // Capstone's CS_ARCH_X86 and many docs use x86 for the family; LLVM's triple parser reads it as i386.
        ["x86"] = "i386 (32-bit) or amd64 (x86-64)",
        // cstool/kstool's x32 is 32-bit x86; Linux's x32 is an ABI of 64-bit mode.
        ["x32"] = "i386 (cstool's x32) or amd64 (Linux's x32 ABI runs in 64-bit mode)",
    };

    /// <summary>Every alias, for help texts: "x86_64, x86-64, x64 = amd64; ...".</summary>
    public static string AliasSummary { get; } = string.Join("; ", Aliases.GroupBy(a => a.Value)
        .OrderBy(g => g.Key).Select(g => $"{string.Join(", ", g.Select(a => a.Key))} = {g.Key.ShortName()}"));

    /// <exception cref="ArgumentException">The name is unknown or ambiguous; the message says what to write.</exception>
    public static InstructionSet Parse(string text)
    {
        string name = text.Trim();
        if (Aliases.TryGetValue(name, out var isa))
        {
            return isa;
        }

        if (Ambiguous.TryGetValue(name, out string? readings))
        {
            throw new ArgumentException($"architecture '{text}' is ambiguous: write {readings}");
        }

        return InstructionSetNames.Parse(name);
    }

    /// <summary>The value of an <c>--arch</c> option: an instruction set, or a parse error with <see cref="Parse"/>'s message.</summary>
    public static InstructionSet FromOption(System.CommandLine.Parsing.ArgumentResult result)
    {
        try
        {
            return Parse(result.Tokens.Count == 1 ? result.Tokens[0].Value : "");
        }
        catch (ArgumentException e)
        {
            result.AddError(e.Message);
            return default;
        }
    }
}
