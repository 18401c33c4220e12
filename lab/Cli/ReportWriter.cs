using System.Text.Json;
using HcrLab.Encoders;
using HcrLab.Lab.Emulation;
using HcrLab.Lab.Verification;
using Spectre.Console;

namespace HcrLab.Lab.Cli;

/// <summary>Writes a verification report as a table with the first failures (for people) and as JSON (for scripts).</summary>
public static class ReportWriter
{
    public static void WriteText(VerificationReport report, IAnsiConsole console)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("CPU").AddColumn("form").AddColumn(new TableColumn("cases").RightAligned())
            .AddColumn(new TableColumn("random").RightAligned()).AddColumn(new TableColumn("passed").RightAligned())
            .AddColumn(new TableColumn("failed").RightAligned()).AddColumn(new TableColumn("unverified").RightAligned());
        foreach (var row in report.Rows)
        {
            table.AddRow(
                row.Isa.ShortName(), Markup.Escape(row.Form), row.Cases.ToString(), row.Random.ToString(), row.Passed.ToString(),
                row.Failed == 0 ? "0" : $"[red]{row.Failed}[/]", row.Unverified.ToString());
        }

        console.Write(table);

        foreach (var failure in report.Failures)
        {
            console.MarkupLine($"[red]FAIL[/] {Markup.Escape(failure.Case.ToString())}");
            console.WriteLine($"     {failure.Failure}");
            foreach (var step in failure.Steps)
            {
                console.WriteLine($"     {step.What}: {step.Plan.Form.Name}, bytes {step.Bytes}");
                foreach (var instruction in step.Disassembly)
                {
                    console.WriteLine($"       0x{instruction.Address:x}  {instruction.Bytes,-20}  {instruction.Text}");
                }
            }
        }

        foreach (var random in report.RandomFailures)
        {
            console.MarkupLine($"[red]RANDOM FAIL[/] {random.Isa.ShortName()}: {Markup.Escape(random.Report)}");
        }

        if (report.Unverified > 0)
        {
            console.WriteLine(
                $"{report.Unverified} passing cases include a step that only the disassemblers judged: {EmulatorDefects.Summary}");
        }

        console.WriteLine(
            $"{report.Cases} cases on {report.Rows.Select(r => r.Isa).Distinct().Count()} instruction sets in {report.Elapsed.TotalSeconds:F1} s: "
            + $"{report.Passed} passed, {report.Failed} failed");
    }

    public static void WriteJson(VerificationReport report, string path)
    {
        var document = new
        {
            passed = report.Passed,
            failed = report.Failed,
            cases = report.Cases,
            seconds = Math.Round(report.Elapsed.TotalSeconds, 3),
            seed = report.Seed,
            unverified = report.Unverified,
            rows = report.Rows.Select(r => new { arch = r.Isa.ShortName(), form = r.Form, cases = r.Cases, random = r.Random, passed = r.Passed, failed = r.Failed, unverified = r.Unverified }),
            failures = report.Failures.Select(f => new
            {
                arch = f.Case.Isa.ShortName(),
                form = f.Case.Form,
                mode = f.Case.Mode.ToString().ToLowerInvariant(),
                slot = $"0x{f.Case.Slot:x}",
                target = $"0x{f.Case.Target:x}",
                secondTarget = $"0x{f.Case.SecondTarget:x}",
                distance = f.Case.Distance,
                reason = f.Failure,
                steps = f.Steps.Select(s => new
                {
                    what = s.What,
                    form = s.Plan.Form.Name,
                    bytes = s.Bytes,
                    disassembly = s.Disassembly.Select(i => $"0x{i.Address:x}  {i.Bytes}  {i.Text}"),
                }),
            }),
            randomFailures = report.RandomFailures.Select(r => new { arch = r.Isa.ShortName(), report = r.Report }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }
}
