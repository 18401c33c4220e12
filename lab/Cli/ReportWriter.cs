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
        // A pipe or a CI log has no width: Spectre assumes 80, which would fold the table's form names.
        if (!console.Profile.Capabilities.Interactive)
        {
            console.Profile.Width = Math.Max(console.Profile.Width, 120);
        }

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("CPU").AddColumn("form").AddColumn(new TableColumn("cases").RightAligned())
            .AddColumn(new TableColumn("random").RightAligned()).AddColumn(new TableColumn("passed").RightAligned())
            .AddColumn(new TableColumn("failed").RightAligned()).AddColumn(new TableColumn("unverified").RightAligned())
            .AddColumn(new TableColumn("states").RightAligned()).AddColumn(new TableColumn("state fails").RightAligned())
            .AddColumn(new TableColumn("quiesced").RightAligned());
        bool external = report.Encoder is not null;
        if (external)
        {
            table.AddColumn(new TableColumn("longer").RightAligned());
        }

        bool onHost = report.HostNotes is not null;
        if (onHost)
        {
            table.AddColumn(new TableColumn("not on CPU").RightAligned());
        }

        foreach (var row in report.Rows)
        {
            string[] cells =
            [
                row.Isa.ShortName(), Markup.Escape(row.Form), row.Cases.ToString(), row.Random.ToString(), row.Passed.ToString(),
                row.Failed == 0 ? "0" : $"[red]{row.Failed}[/]", row.Unverified.ToString(),
                row.States.States.ToString(), row.States.Failed == 0 ? "0" : $"[red]{row.States.Failed}[/]", row.States.Quiesced.ToString(),
            ];
            cells = external ? [.. cells, row.Longer.ToString()] : cells;
            table.AddRow(onHost ? [.. cells, row.HostSkipped.ToString()] : cells);
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

            if (failure.Answer is { } answer)
            {
                console.WriteLine($"     answer: {answer.Bytes}");
                foreach (var instruction in answer.Disassembly)
                {
                    console.WriteLine($"       0x{instruction.Address:x}  {instruction.Bytes,-20}  {instruction.Text}");
                }
            }
        }

        if (report.Unverified > 0)
        {
            console.WriteLine(
                $"{report.Unverified} passing cases include a step that only the disassemblers judged: {EmulatorDefects.Summary}");
        }

        var states = report.States;
        console.WriteLine(
            $"intermediate states: {states.Repoints} re-points safe while callers run, checked in {states.States} states "
            + $"(every prefix of their stores, byte mixes of any store that is not single-copy atomic): {states.Failed} failed; "
            + $"{states.Quiesced} re-points need quiescence (no caller runs during them, so no state is run)");

        if (report.Longer > 0)
        {
            console.WriteLine($"{report.Longer} passing answers are longer than the shortest form that reaches (informational; the 'longer' column)");
        }

        foreach (string note in report.HostNotes ?? [])
        {
            console.WriteLine($"on the CPU: {note}");
        }

        // Without random cases the seed changes nothing (it is still in the JSON report).
        if (report.Shard is { } shard)
        {
            console.WriteLine($"shard {shard} of the run with seed {report.Seed} (replay: --shard {shard} --seed {report.Seed})");
        }
        else if (report.Rows.Any(r => r.Random > 0))
        {
            console.WriteLine($"seed {report.Seed} (replay: --seed {report.Seed})");
        }

        console.WriteLine(
            $"{report.Cases} cases on {report.Rows.Select(r => r.Isa).Distinct().Count()} instruction sets in {report.Elapsed.TotalSeconds:F1} s: "
            + $"{report.Passed} passed, {report.Failed} failed");
    }

    public static void WriteJson(VerificationReport report, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(ToDocument(report), ReportDocument.Json));

    public static ReportDocument ToDocument(VerificationReport report) => new(
        ReportDocument.VerifySchema,
        report.Passed,
        report.Failed,
        report.Cases,
        Math.Round(report.Elapsed.TotalSeconds, 3),
        report.Seed,
        report.Unverified,
        [.. report.Rows.Select(r => new ReportRow(r.Isa.ShortName(), r.Form, r.Cases, r.Random, r.Passed, r.Failed, r.Unverified, r.Longer, r.HostSkipped,
            r.States.Repoints, r.States.Quiesced, r.States.States, r.States.Failed))],
        [.. report.Failures.Select(f => new ReportFailure(
            f.Case.Isa.ShortName(),
            f.Case.Form,
            f.Case.Mode.ToString().ToLowerInvariant(),
            $"0x{f.Case.Slot:x}",
            $"0x{f.Case.Target:x}",
            $"0x{f.Case.SecondTarget:x}",
            f.Case.Distance,
            f.Failure!,
            [
                .. f.Steps.Select(s => new ReportStep(
                    s.What, s.Plan.Form.Name, s.Bytes, [.. s.Disassembly.Select(i => $"0x{i.Address:x}  {i.Bytes}  {i.Text}")])),
                .. f.Answer is { } a
                    ? [new ReportStep("answer", "external", a.Bytes, [.. a.Disassembly.Select(i => $"0x{i.Address:x}  {i.Bytes}  {i.Text}")])]
                    : Array.Empty<ReportStep>(),
            ]))],
        report.Longer,
        report.Encoder,
        report.Shard is { } shard ? [shard.ToString()] : null,
        report.HostNotes is null ? null : report.HostSkipped,
        report.HostNotes);
}
