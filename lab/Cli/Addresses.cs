using System.Globalization;
using System.Numerics;

namespace HcrLab.Lab.Cli;

/// <summary>
/// Addresses in batch input: hexadecimal, with or without <c>0x</c>, underscores allowed between digits. On the command
/// line (<see cref="ParseOption"/>) a value of decimal digits only needs the <c>0x</c>: <c>--at 4096</c> is refused, as
/// a reader cannot tell whether 0x4096 or 4096 was meant.
/// </summary>
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

    /// <summary>An address option: <see cref="Parse"/>, but bare decimal digits (other than one digit, the same in both bases) are refused as ambiguous.</summary>
    /// <exception cref="FormatException">Not a hexadecimal address, or an ambiguous one; the message shows both readings.</exception>
    public static ulong ParseOption(string text, string what)
    {
        string digits = text.Trim().Replace("_", "", StringComparison.Ordinal);
        if (digits.Length > 1 && digits.All(char.IsAsciiDigit))
        {
            string asDecimal = BigInteger.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= ulong.MaxValue
                ? $", or 0x{(ulong)value:x} for decimal {digits}"
                : "";
            throw new FormatException($"{what}: '{text}' is ambiguous: addresses are hexadecimal; write 0x{digits}{asDecimal}");
        }

        return Parse(text, what);
    }
}
