using System.Globalization;

namespace HcrLab.Lab.Verification;

/// <summary>
/// One of <see cref="Count"/> parts of a run (<c>--shard INDEX/COUNT</c>, INDEX from 1): the matrix cases and the random
/// cases whose position modulo COUNT is INDEX − 1, so COUNT jobs with the same seed run every case exactly once.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    /// <exception cref="FormatException">Not <c>I/N</c> with 1 ≤ I ≤ N.</exception>
    public static Shard Parse(string text)
    {
        string[] parts = text.Split('/');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && index >= 1 && index <= count
            ? new Shard(index, count)
            : throw new FormatException($"--shard: '{text}' is not INDEX/COUNT with 1 <= INDEX <= COUNT (e.g. 2/3)");
    }

    /// <summary>True when the case at <paramref name="position"/> (from 0) belongs to this shard.</summary>
    public bool Includes(int position) => position % Count == Index - 1;

    public override string ToString() => $"{Index}/{Count}";
}
