using System.Globalization;

namespace HcrLab.Runtime;

/// <summary>One line of <c>/proc/self/maps</c>: an address range and its access.</summary>
/// <param name="Start">The first address.</param>
/// <param name="End">The address after the last.</param>
/// <param name="Permissions">The four flag characters, e.g. <c>r-xp</c> (p = private, s = shared).</param>
/// <param name="Path">The file, a pseudo-name such as <c>[heap]</c>, or empty for anonymous memory.</param>
public readonly record struct MemoryMapping(ulong Start, ulong End, string Permissions, string Path)
{
    /// <summary>Bytes in the range.</summary>
    public ulong Length => End - Start;

    /// <summary>True when the mapping may be read.</summary>
    public bool IsReadable => Permissions[0] == 'r';

    /// <summary>True when the mapping may be written.</summary>
    public bool IsWritable => Permissions[1] == 'w';

    /// <summary>True when the mapping may be executed.</summary>
    public bool IsExecutable => Permissions[2] == 'x';

    /// <summary>True when <paramref name="address"/> lies in [<c>Start</c>, <c>End</c>).</summary>
    public bool Contains(ulong address) => address >= Start && address < End;

    /// <summary>The mapping as <c>/proc/self/maps</c> writes it (range, permissions, path).</summary>
    public override string ToString() => $"{Start:x}-{End:x} {Permissions} {Path}";
}

/// <summary>
/// The process's mappings as the kernel reports them. The runtime reads it to find a free gap near the loaded modules
/// (probing addresses one by one would mostly hit .NET's own reservations); tests read it to check that no page is
/// writable and executable at once.
/// </summary>
public static class ProcessMemoryMap
{
    private const string MapsPath = "/proc/self/maps";

    /// <summary>The current mappings, in ascending address order.</summary>
    public static IReadOnlyList<MemoryMapping> Read()
    {
        Native.RequireLinux();
        return Parse(File.ReadAllLines(MapsPath));
    }

    /// <summary>Parses lines in the format of <c>/proc/PID/maps</c>; lines that do not parse are skipped.</summary>
    public static IReadOnlyList<MemoryMapping> Parse(IEnumerable<string> lines)
    {
        var mappings = new List<MemoryMapping>();
        foreach (string line in lines)
        {
            // start-end perms offset dev inode [path]; the path may contain spaces and ends the line.
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5)
            {
                continue;
            }

            int dash = fields[0].IndexOf('-', StringComparison.Ordinal);
            if (dash < 0
                || !ulong.TryParse(fields[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end)
                || fields[1].Length != 4)
            {
                continue;
            }

            mappings.Add(new MemoryMapping(start, end, fields[1], fields.Length == 6 ? fields[5].Trim() : ""));
        }

        mappings.Sort((a, b) => a.Start.CompareTo(b.Start));
        return mappings;
    }

    /// <summary>
    /// Candidate start addresses for a block of <paramref name="length"/> bytes lying wholly within
    /// [<paramref name="low"/>, <paramref name="high"/>) and in no mapping, nearest to <paramref name="anchor"/> first.
    /// Each gap contributes the position in it closest to the anchor.
    /// </summary>
    public static IEnumerable<ulong> FreeBlocksNear(
        IReadOnlyList<MemoryMapping> mappings, ulong anchor, ulong length, ulong low, ulong high, ulong alignment)
    {
        var candidates = new List<ulong>();
        foreach (var gap in Gaps(mappings, low, high))
        {
            ulong first = AlignUp(gap.Start, alignment);
            if (first < gap.Start || gap.End < length || first > gap.End - length)
            {
                continue;
            }

            ulong last = AlignDown(gap.End - length, alignment);
            ulong best = anchor <= first ? first : anchor >= last ? last : AlignDown(anchor, alignment);
            candidates.Add(best);
        }

        return candidates.OrderBy(c => Distance(c, c + length, anchor));
    }

    private static IEnumerable<(ulong Start, ulong End)> Gaps(IReadOnlyList<MemoryMapping> mappings, ulong low, ulong high)
    {
        ulong cursor = low;
        foreach (var mapping in mappings)
        {
            if (mapping.End <= cursor)
            {
                continue;
            }

            if (mapping.Start >= high)
            {
                break;
            }

            if (mapping.Start > cursor)
            {
                yield return (cursor, mapping.Start);
            }

            cursor = mapping.End;
        }

        if (cursor < high)
        {
            yield return (cursor, high);
        }
    }

    private static ulong Distance(ulong start, ulong end, ulong anchor) =>
        anchor < start ? end - anchor : anchor >= end ? anchor - start : 0;

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    private static ulong AlignDown(ulong value, ulong alignment) => value & ~(alignment - 1);
}
