using System.CommandLine;
using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;
using HcrLab.Lab.Emulation;
using HcrLab.Lab.External;
using HcrLab.Lab.Host;
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
            Description = $"Instruction sets to verify (repeat or separate with commas): i386, amd64, arm, thumb, arm64, in any case; also {ArchitectureNames.AliasSummary}. Default: all.",
            AllowMultipleArgumentsPerToken = true,
        };
        var random = new Option<int>("--random")
        {
            Description = "Random cases on top of the fixed matrix, shared out over the instruction sets.",
            DefaultValueFactory = _ => DefaultRandomCases,
        };
        var seed = new Option<string?>("--seed")
        {
            Description = "Hexadecimal seed of the random cases (0x optional); every run prints the one it used and its JSON report holds it, so --seed replays the run. Default: a fresh one.",
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var failures = new Option<int>("--max-failures")
        {
            Description = "Failing cases shown per instruction set, with bytes and disassembly.",
            DefaultValueFactory = _ => 10,
        };

        var encoder = new Option<string?>("--encoder")
        {
            Description = "Verify an external encoder instead of the shipped ones: COMMAND speaks the line protocol (README, "
                + "'Verifying your own encoder'). It is split into words like a shell's simple command and run without a shell, "
                + "unless it holds shell operators or expansions.",
        };
        var encoderTimeout = new Option<double>("--encoder-timeout")
        {
            Description = "Seconds the external encoder may take for its handshake or one answer; past it, its process group is killed and it is restarted.",
            DefaultValueFactory = _ => 5,
        };
        var shard = new Option<string?>("--shard")
        {
            Description = "Run part INDEX of COUNT (e.g. 2/3) of the matrix and random cases; give every shard the same --seed (hexadecimal; printed when chosen) and merge the JSON reports with 'hcrlab report merge'.",
        };

        var on = new Option<string>("--on")
        {
            Description = "Where cases run: emulator (default; every CPU), host (also on this machine's CPU: amd64 and i386 on x86-64, "
                + "slot and stub at the case's own addresses) or both (the same, naming it: any emulator/CPU disagreement is a failure).",
            DefaultValueFactory = _ => "emulator",
        }.AcceptOnlyFromAmong("emulator", "host", "both");

        var command = new Command("verify", "Run every jump form of every CPU in Unicorn and cross-check it with Capstone and Iced.")
        {
            arch, random, seed, json, failures, encoder, encoderTimeout, shard, on,
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

            if (parsed.GetValue(json) is { } jsonFile && !OutputFile.CanWrite(jsonFile.FullName, out string why))
            {
                error.WriteLine($"hcrlab verify: cannot write --json {jsonFile.FullName}: {why}");
                return HcrLabCli.UsageError;
            }

            if (parsed.GetValue(random) is var count && count < 0)
            {
                error.WriteLine("hcrlab verify: --random must be 0 or more");
                return HcrLabCli.UsageError;
            }

            Shard? part = null;
            EncoderCommandLine? external = null;
            var deadline = TimeSpan.Zero;
            try
            {
                part = parsed.GetValue(shard) is { } shardText ? Shard.Parse(shardText) : null;
                if (parsed.GetValue(seed) is { } seedText)
                {
                    Verifier.ParseSeed(seedText);
                }

                external = parsed.GetValue(encoder) is { } commandText ? EncoderCommandLine.Parse(commandText) : null;
                // Checked as a number first: TimeSpan.FromSeconds throws on NaN and on values past its range.
                double seconds = parsed.GetValue(encoderTimeout);
                deadline = seconds is > 0 and <= 3600
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new FormatException("--encoder-timeout: give a number of seconds above 0 and at most 3600");
            }
            catch (FormatException e)
            {
                error.WriteLine($"hcrlab verify: {e.Message}");
                return HcrLabCli.UsageError;
            }

            // After every usage check: a bad option is exit code 2 whether or not Unicorn and Capstone are installed.
            if (!UnicornEngine.TryLoad(out string? problem) || !JumpDisassembler.TryLoad(out problem))
            {
                error.WriteLine($"hcrlab verify: {problem}");
                return HcrLabCli.MissingLibrary;
            }

            if (external is not null)
            {
                EncoderHandshake handshake;
                try
                {
                    handshake = EncoderProcess.Probe(external, deadline);
                }
                catch (ExternalEncoderException e)
                {
                    error.WriteLine($"hcrlab verify: {e.Message}");
                    return HcrLabCli.UsageError;
                }

                var served = isas.Where(handshake.Cpus.Contains).ToList();
                output.WriteLine($"encoder: {external} (protocol {handshake.Version}; cpus {string.Join(",", handshake.Cpus.Select(i => i.ShortName()))}; "
                    + $"modes {string.Join(",", handshake.Modes.Select(m => m.ToString().ToLowerInvariant()))}; scratch "
                    + $"{(handshake.Scratch.Count == 0 ? "none" : string.Join(",", handshake.Scratch.SelectMany(p => p.Value.Order().Select(r => $"{p.Key.ShortName()}:{r}"))))})");
                if (served.Count < isas.Count)
                {
                    output.WriteLine($"not served by the encoder, skipped: {string.Join(", ", isas.Except(served).Select(i => i.ShortName()))}");
                }

                isas = served;
            }

            var site = parsed.GetValue(on) switch { "host" => ExecutionSite.Host, "both" => ExecutionSite.Both, _ => ExecutionSite.Emulator };
            var options = new VerifyOptions(isas, count, parsed.GetValue(seed), parsed.GetValue(failures), external, deadline, part, site);
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
            VerificationReport report;
            try
            {
                report = RunWithProgress(options, console, output);
            }
            catch (Exception e) when (Unwrap(e) is ExternalEncoderException or FormatException)
            {
                error.WriteLine($"hcrlab verify: {Unwrap(e).Message}");
                return Unwrap(e) is FormatException ? HcrLabCli.UsageError : HcrLabCli.CheckFailed;
            }

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

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions: [var inner] } ? Unwrap(inner) : e;

    public static IReadOnlyList<InstructionSet> ParseArchitectures(string[]? values)
    {
        if (values is null || values.Length == 0)
        {
            return InstructionSetNames.All;
        }

        InstructionSet[] isas = [.. values
            .SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => v.Equals("all", StringComparison.OrdinalIgnoreCase) ? InstructionSetNames.All : [ArchitectureNames.Parse(v)])
            .SelectMany(v => v)
            .Distinct()
            .Order()];

        // '--arch ""' or '--arch ,,,' would run no case on no CPU and pass.
        return isas.Length > 0
            ? isas
            : throw new ArgumentException($"--arch names no instruction set: give one or more of {string.Join(", ", InstructionSetNames.All.Select(i => i.ShortName()))} (or all)");
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
        output.WriteLine($"verifying {string.Join(", ", options.Isas.Select(i => i.ShortName()))} with {options.RandomCases} random cases"
            + (options.Shard is { } shard ? $", shard {shard}" : "") + " ...");
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
