using System.CommandLine;
using System.Text.Json;

namespace HcrLab.Lab.Cli;

/// <summary><c>hcrlab report merge</c>: the JSON reports of the shards of one run, merged into the report of the whole run.</summary>
public static class ReportCommand
{
    /// <summary>A report larger than this is not one <c>hcrlab verify</c> wrote.</summary>
    public const long MaxReportBytes = 64L << 20;

    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("reports") { Description = "JSON reports written by 'hcrlab verify --shard I/N --json FILE'.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<FileInfo?>("--json") { Description = "Write the merged report as JSON to this file." };
        var merge = new Command("merge", "Merge the JSON reports of shards into one: totals and rows summed, failures gathered; exit code 0 only when all shards are there and every case passed.")
        {
            files, json,
        };
        merge.SetAction(parsed =>
        {
            var output = parsed.InvocationConfiguration.Output;
            var error = parsed.InvocationConfiguration.Error;
            var documents = new List<ReportDocument>();
            foreach (var report in parsed.GetValue(files)!)
            {
                try
                {
                    documents.Add(Read(report));
                }
                catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidDataException)
                {
                    error.WriteLine($"hcrlab report merge: {report.FullName}: {e.Message}");
                    return HcrLabCli.UsageError;
                }
            }

            var merged = Merge(documents, out string? incomplete);
            foreach (var row in merged.Rows)
            {
                output.WriteLine($"  {row.Arch,-6} {row.Form,-14} {row.Cases,7} cases {row.Random,7} random {row.Passed,7} passed {row.Failed,5} failed");
            }

            foreach (var failure in merged.Failures)
            {
                output.WriteLine($"FAIL {failure.Arch} {failure.Form ?? "auto"} {failure.Mode} slot={failure.Slot} target={failure.Target} ({failure.Distance}): {failure.Reason}");
            }

            if (incomplete is not null)
            {
                error.WriteLine($"hcrlab report merge: {incomplete}");
            }

            output.WriteLine($"{merged.Cases} cases on {merged.Rows.Select(r => r.Arch).Distinct().Count()} instruction sets from {documents.Count} reports "
                + $"({merged.Seconds:F1} s in all): {merged.Passed} passed, {merged.Failed} failed");
            if (parsed.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(merged, ReportDocument.Json));
                output.WriteLine($"JSON results written to {file.FullName}");
            }

            return merged.Failed == 0 && incomplete is null ? HcrLabCli.Success : HcrLabCli.CheckFailed;
        });
        return new Command("report", "Work with JSON reports of hcrlab verify.") { merge };
    }

    /// <summary>
    /// Sums the rows (by CPU and form) and totals of <paramref name="documents"/> and gathers their failures.
    /// <paramref name="incomplete"/> says when they are not exactly the shards 1..N of one seed.
    /// </summary>
    public static ReportDocument Merge(IReadOnlyList<ReportDocument> documents, out string? incomplete)
    {
        var shards = documents.SelectMany(d => d.Shards ?? []).ToList();
        var counts = shards.Select(s => s.Split('/')[^1]).Distinct().ToList();
        var seeds = documents.Select(d => d.Seed).Distinct().ToList();
        incomplete = null;
        if (seeds.Count > 1)
        {
            incomplete = $"the reports come from different seeds ({string.Join(", ", seeds.Select(s => s ?? "none"))}); their random cases overlap or miss some";
        }
        else if (counts.Count == 1 && int.TryParse(counts[0], out int n))
        {
            var missing = Enumerable.Range(1, n).Select(i => $"{i}/{n}").Except(shards).ToList();
            var repeated = shards.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            incomplete = missing.Count > 0 ? $"shards missing: {string.Join(", ", missing)}"
                : repeated.Count > 0 ? $"shards given twice: {string.Join(", ", repeated)}" : null;
        }
        else if (counts.Count > 1 || shards.Count != documents.Count)
        {
            incomplete = "the reports are not the shards of one run (each needs --shard I/N with the same N)";
        }

        var order = documents.SelectMany(d => d.Rows).Select((r, i) => (Key: (r.Arch, r.Form), Index: i))
            .GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Min(r => r.Index));
        var rows = documents.SelectMany(d => d.Rows)
            .GroupBy(r => (r.Arch, r.Form))
            .OrderBy(g => order[g.Key])
            .Select(g => new ReportRow(g.Key.Arch, g.Key.Form, g.Sum(r => r.Cases), g.Sum(r => r.Random), g.Sum(r => r.Passed), g.Sum(r => r.Failed),
                g.Sum(r => r.Unverified), g.Sum(r => r.Longer), g.Sum(r => r.HostSkipped),
                g.Sum(r => r.Repoints), g.Sum(r => r.Quiesced), g.Sum(r => r.States), g.Sum(r => r.StatesFailed)))
            .ToList();
        return new ReportDocument(
            ReportDocument.VerifySchema,
            documents.Sum(d => d.Passed),
            documents.Sum(d => d.Failed),
            documents.Sum(d => d.Cases),
            Math.Round(documents.Sum(d => d.Seconds), 3),
            seeds.Count == 1 ? seeds[0] : null,
            documents.Sum(d => d.Unverified),
            rows,
            [.. documents.SelectMany(d => d.Failures)],
            documents.Sum(d => d.Longer),
            documents.Select(d => d.Encoder).FirstOrDefault(e => e is not null),
            shards.Count > 0 ? [.. shards.Order()] : null,
            documents.Any(d => d.HostSkipped is not null) ? documents.Sum(d => d.HostSkipped ?? 0) : null,
            documents.FirstOrDefault(d => d.HostNotes is not null)?.HostNotes);
    }

    private static ReportDocument Read(FileInfo file)
    {
        // A regular file of bounded size: a report path from CI could be anything.
        if (!file.Exists || file.Attributes.HasFlag(FileAttributes.Directory) || file.LinkTarget is not null)
        {
            throw new IOException("not a regular file");
        }

        if (file.Length > MaxReportBytes)
        {
            throw new InvalidDataException($"{file.Length} bytes is more than a report of hcrlab verify holds ({MaxReportBytes} at most)");
        }

        var document = JsonSerializer.Deserialize<ReportDocument>(File.ReadAllText(file.FullName), ReportDocument.Json)
            ?? throw new InvalidDataException("the file holds JSON null, not a report");
        return document.Schema == ReportDocument.VerifySchema
            ? document
            : throw new InvalidDataException($"the schema is {(document.Schema is { } s ? $"'{s}'" : "missing")}, not '{ReportDocument.VerifySchema}' (a report of hcrlab verify --json)");
    }
}
