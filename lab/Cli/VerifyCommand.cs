using System.CommandLine;
using HcrLab.Encoders;
using HcrLab.Lab.Emulation;
using HcrLab.Lab.Verification;
using Spectre.Console;

namespace HcrLab.Lab.Cli;

/// <summary><c>hcrlab verify</c>: every form of every CPU, run in the emulator and decoded by the disassemblers.</summary>
public static class VerifyCommand
{
    public const int DefaultRandomCases = 20_000;

    public static Command Create()
    {
        var arch = new Option<string[]>("--arch")
        {
            Description = "Instruction sets to verify (repeat or separate with commas): i386, amd64, arm, thumb, arm64. Default: all.",
            AllowMultipleArgumentsPerToken = true,
        };
        var random = new Option<int>("--random")
        {
            Description = "Random cases on top of the fixed matrix, shared out over the instruction sets.",
            DefaultValueFactory = _ => DefaultRandomCases,
        };
        var seed = new Option<string?>("--seed") { Description = "CsCheck seed printed with a random failure; replays that case first." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var failures = new Option<int>("--max-failures")
        {
            Description = "Failing cases shown per instruction set, with bytes and disassembly.",
            DefaultValueFactory = _ => 10,
        };

        var command = new Command("verify", "Run every jump form of every CPU in Unicorn and cross-check it with Capstone and Iced.")
        {
            arch, random, seed, json, failures,
        };
        command.SetAction(parsed =>
        {
            var output = parsed.InvocationConfiguration.Output;
            var error = parsed.InvocationConfiguration.Error;
            IReadOnlyList<InstructionSet> isas;
            try
            {
                isas = ParseArchitectures(parsed.GetValue(arch));
            }
            catch (ArgumentException e)
            {
                error.WriteLine($"hcrlab verify: {e.Message}");
                return HcrLabCli.UsageError;
            }

            if (parsed.GetValue(random) is var count && count < 0)
            {
                error.WriteLine("hcrlab verify: --random must be 0 or more");
                return HcrLabCli.UsageError;
            }

            if (!UnicornEngine.TryLoad(out string? problem))
            {
                error.WriteLine($"hcrlab verify: {problem}");
                return HcrLabCli.MissingLibrary;
            }

            var options = new VerifyOptions(isas, count, parsed.GetValue(seed), parsed.GetValue(failures));
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
            var report = RunWithProgress(options, console, output);
            ReportWriter.WriteText(report, console);
            if (parsed.GetValue(json) is { } file)
            {
                ReportWriter.WriteJson(report, file.FullName);
                output.WriteLine($"JSON results written to {file.FullName}");
            }

            return report.AllPassed ? HcrLabCli.Success : HcrLabCli.CheckFailed;
        });
        return command;
    }

    public static IReadOnlyList<InstructionSet> ParseArchitectures(string[]? values)
    {
        if (values is null || values.Length == 0)
        {
            return InstructionSetNames.All;
        }

        return [.. values
            .SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => v == "all" ? InstructionSetNames.All : [InstructionSetNames.Parse(v)])
            .SelectMany(v => v)
            .Distinct()
            .Order()];
    }

    private static VerificationReport RunWithProgress(VerifyOptions options, IAnsiConsole console, TextWriter output)
    {
        if (console.Profile.Capabilities.Interactive)
        {
            return console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    var tasks = options.Isas.ToDictionary(i => i, i => context.AddTask(i.ShortName(), maxValue: 1));
                    return Verifier.Run(options, (isa, done, total) =>
                    {
                        tasks[isa].MaxValue = total;
                        tasks[isa].Value = done;
                    });
                });
        }

        // Not a terminal (CI, a pipe): one line per instruction set as it finishes, and a heartbeat every few thousand cases.
        var gate = new object();
        output.WriteLine($"verifying {string.Join(", ", options.Isas.Select(i => i.ShortName()))} with {options.RandomCases} random cases ...");
        return Verifier.Run(options, (isa, done, total) =>
        {
            if (done == total || done % 4096 == 0)
            {
                lock (gate)
                {
                    output.WriteLine($"  {isa.ShortName(),-6} {done,6} / {total} cases");
                }
            }
        });
    }
}
