using System.Globalization;

namespace HcrLab.Lab.Cli;

/// <summary>Addresses on the command line and in batch input: hexadecimal, with or without <c>0x</c>, underscores allowed between digits.</summary>
public static class Addresses
{
    public static bool TryParse(string text, out ulong address)
    {
        string digits = text.Trim().Replace("_", "", StringComparison.Ordinal);
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[2..];
        }

        return ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out address) && digits.Length > 0;
    }

    public static ulong Parse(string text, string what) =>
        TryParse(text, out ulong address)
            ? address
            : throw new FormatException($"{what}: '{text}' is not a hexadecimal address (e.g. 0x7f0000001000) that fits in 64 bits");
}
