using System.Text.Json;

namespace HcrLab.Perf.Reporting;

/// <summary>One line of the C anchor's output (perf/nim/hcrbench.c): a runtime's median ns per operation.</summary>
public sealed record AnchorFigure(string Runtime, string Op, long N, double NsPerOp)
{
    /// <summary>The figures in a JSON-lines file; none when the file does not exist (the anchor was skipped).</summary>
    public static IReadOnlyList<AnchorFigure> Load(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        return [.. File.ReadLines(path)
            .Where(line => line.TrimStart().StartsWith('{'))
            .Select(line =>
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                return new AnchorFigure(
                    root.GetProperty("runtime").GetString() ?? "",
                    root.GetProperty("op").GetString() ?? "",
                    root.GetProperty("n").GetInt64(),
                    root.GetProperty("ns_per_op").GetDouble());
            })];
    }
}
