using System.CommandLine;
using System.Text.Json;
using HcrLab.Encoders;
using HcrLab.Lab.ChildProcesses;
using HcrLab.Lab.Disassembly;
using HcrLab.Lab.External;

namespace HcrLab.Lab.Cli;

/// <summary><c>hcrlab encode</c>: the encoding of one (slot, target) pair, or of many read from standard input.</summary>
public static class EncodeCommand
{
    /// <summary>The <c>schema</c> of the JSON objects <c>encode --format json</c> writes (docs/json.md).</summary>
    public const string Schema = "hcrlab.encode/1";

    /// <summary>A required <c>--arch</c> that takes one instruction set by any of <see cref="ArchitectureNames"/>.</summary>
    public static Option<InstructionSet> ArchOption() => new("--arch")
    {
        Description = $"Instruction set of the slot: i386, amd64, arm (A32), thumb (Thumb-2) or arm64, in any case; also {ArchitectureNames.AliasSummary}.",
        Required = true,
        HelpName = "i386|amd64|arm|thumb|arm64",
        CustomParser = ArchitectureNames.FromOption,
    };

    public static Command Create(TextReader input)
    {
        var arch = ArchOption();
        var at = new Option<string>("--at")
        {
            HelpName = "ADDR",
            Description = "Required without --batch. Address of the slot, hexadecimal: 0x1000 (bare decimal digits such as 4096 are refused as ambiguous).",
        };
        var target = new Option<string>("--target")
        {
            HelpName = "ADDR",
            Description = "Required without --batch. Address to jump to, hexadecimal like --at. On arm and thumb, bit 0 set means a Thumb target, clear an A32 one.",
        };
        var mode = new Option<string>("--mode")
        {
            Description = "code: shortest form, a direct branch when in reach. data: the target sits in an aligned literal, re-pointed by one atomic store.",
            DefaultValueFactory = _ => "code",
        }.AcceptOnlyFromAmong("code", "data");
        var form = new Option<string?>("--form") { Description = "Force one form (e.g. rel32, b.w, adrp-add-br) instead of the shortest." };
        var format = new Option<string>("--format")
        {
            Description = "text: form, bytes and disassembly. hex: only the bytes, one line of hex. json: one JSON object (hcrlab.encode/1; "
                + "with --batch one a line).",
            DefaultValueFactory = _ => "text",
        }.AcceptOnlyFromAmong("text", "hex", "json");
        var batch = new Option<bool>("--batch")
        {
            Description = "Read 'AT TARGET' pairs (always hexadecimal, 0x optional: 1000 is 0x1000; one pair a line, # comments) from standard "
                + "input and write one line per pair: hex, or with --format json a JSON object; a pair that cannot be encoded gives an empty line "
                + "(JSON: an object with 'error') on standard output and a message on standard error. Not with --at or --target.",
        };

        var external = new Option<string?>("--encoder")
        {
            Description = "With --batch: pass each pair to this external encoder (the line protocol of 'hcrlab verify --encoder') and write its answers.",
        };

        var command = new Command("encode", "Encode a jump from a slot to a target and show the form, bytes and disassembly.")
        {
            arch, at, target, mode, form, format, batch, external,
        };
        command.SetAction(parsed =>
        {
            var output = parsed.InvocationConfiguration.Output;
            var error = parsed.InvocationConfiguration.Error;
            var encoder = JumpEncoders.For(parsed.GetValue(arch));
            var patchMode = parsed.GetValue(mode) == "data" ? PatchMode.Data : PatchMode.Code;
            JumpForm? forced;
            try
            {
                forced = parsed.GetValue(form) is { } name ? encoder.Form(name) : null;
            }
            catch (ArgumentException e)
            {
                error.WriteLine($"hcrlab encode: {e.Message}");
                return HcrLabCli.UsageError;
            }

            bool json = parsed.GetValue(format) == "json";
            if (parsed.GetValue(batch) && (parsed.GetValue(at) is not null || parsed.GetValue(target) is not null))
            {
                return Usage(error, "--batch reads its pairs from standard input; give no --at or --target with it");
            }

            if (parsed.GetValue(external) is { } commandText)
            {
                return !parsed.GetValue(batch) || forced is not null
                    ? Usage(error, "--encoder needs --batch and cannot force a --form (the protocol has no forms)")
                    : json
                    ? Usage(error, "--encoder answers only bytes: use --format hex with it (the JSON objects describe the lab's own forms)")
                    : RunExternalBatch(commandText, encoder.Facts.Isa, patchMode, input, output, error);
            }

            if (parsed.GetValue(batch))
            {
                // Batch JSON lines carry the disassembly; hex lines (text and hex formats) need no Capstone.
                if (json && !JumpDisassembler.TryLoad(out string? absent))
                {
                    error.WriteLine($"hcrlab encode: {absent}");
                    return HcrLabCli.MissingLibrary;
                }

                return RunBatch(Shipped(encoder, forced, patchMode, json), json ? encoder.Facts.Isa : null, patchMode, input, output, error);
            }

            if (parsed.GetValue(at) is not { } atText || parsed.GetValue(target) is not { } targetText)
            {
                error.WriteLine("hcrlab encode: --at and --target are required (or use --batch)");
                return HcrLabCli.UsageError;
            }

            ulong slot, destination;
            try
            {
                slot = Addresses.ParseOption(atText, "--at");
                destination = Addresses.ParseOption(targetText, "--target");
            }
            catch (FormatException e)
            {
                error.WriteLine($"hcrlab encode: {e.Message}");
                return HcrLabCli.UsageError;
            }

            // The text and JSON formats show the disassembly; only hex needs no Capstone.
            if (parsed.GetValue(format) != "hex" && !JumpDisassembler.TryLoad(out string? missing))
            {
                error.WriteLine($"hcrlab encode: {missing}");
                return HcrLabCli.MissingLibrary;
            }

            try
            {
                var plan = forced is null ? encoder.Plan(slot, destination, patchMode) : encoder.Plan(forced, slot, destination, patchMode);
                var bytes = new byte[plan.Size];
                encoder.Encode(plan, bytes);
                switch (parsed.GetValue(format))
                {
                    case "hex":
                        output.WriteLine(Convert.ToHexStringLower(bytes));
                        break;
                    case "json":
                        output.WriteLine(JsonLine.Of(Describe(plan, bytes)));
                        break;
                    default:
                        WriteText(plan, bytes, output);
                        break;
                }

                return HcrLabCli.Success;
            }
            catch (UnencodableJumpException e)
            {
                error.WriteLine($"hcrlab encode: {e.Message}");
                return HcrLabCli.CheckFailed;
            }
        });
        return command;
    }

    /// <summary>Encodes one pair for a batch: its output line (hex, or a JSON object), or null and the reason it cannot be encoded.</summary>
    private delegate string? BatchEncoder(ulong slot, ulong target, out string? refusal);

    private static BatchEncoder Shipped(IJumpEncoder encoder, JumpForm? forced, PatchMode mode, bool json) =>
        (ulong slot, ulong target, out string? refusal) =>
        {
            try
            {
                var plan = forced is null ? encoder.Plan(slot, target, mode) : encoder.Plan(forced, slot, target, mode);
                var bytes = new byte[plan.Size];
                encoder.Encode(plan, bytes);
                refusal = null;
                return json ? JsonLine.Of(Describe(plan, bytes)) : Convert.ToHexStringLower(bytes);
            }
            catch (UnencodableJumpException e)
            {
                refusal = e.Message;
                return null;
            }
        };

    private static int RunExternalBatch(string commandText, InstructionSet isa, PatchMode mode, TextReader input, TextWriter output, TextWriter error)
    {
        try
        {
            using var process = new EncoderProcess(EncoderCommandLine.Parse(commandText), TimeSpan.FromSeconds(5));
            return RunBatch(
                (ulong slot, ulong target, out string? refusal) =>
                {
                    var answer = process.Ask(EncoderProcess.Request(isa, mode, slot, target));
                    refusal = answer switch
                    {
                        EncoderAnswer.Bytes => null,
                        EncoderAnswer.Refusal r => $"the encoder refused{(r.Reason is { } why ? $": {why}" : "")}",
                        EncoderAnswer.Malformed m => $"malformed answer: {m.Problem}",
                        EncoderAnswer.Hang h => $"the encoder gave no answer within {h.Deadline.TotalSeconds:0.#} s (killed and restarted)",
                        EncoderAnswer.Crash c => $"the encoder crashed: {c.How} (restarted)",
                        _ => "unknown answer",
                    };
                    return answer is EncoderAnswer.Bytes b ? Convert.ToHexStringLower(b.Value) : null;
                },
                null, mode, input, output, error);
        }
        catch (Exception e) when (e is FormatException or ExternalEncoderException)
        {
            return Usage(error, e.Message);
        }
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"hcrlab encode: {message}");
        return HcrLabCli.UsageError;
    }

    /// <summary>The longest line <c>--batch</c> reads; a longer one is refused, and only its start is shown.</summary>
    public const int MaxBatchLineChars = 1024;

    /// <summary>One output line per input pair: hex, or with <paramref name="jsonFor"/> (the instruction set the lines name) a JSON object.</summary>
    private static int RunBatch(BatchEncoder encode, InstructionSet? jsonFor, PatchMode mode, TextReader input, TextWriter output, TextWriter error)
    {
        // A line that gives no encoding stays a line, so output line N answers input pair N.
        void Unanswered(ulong? slot, ulong? target, string why) => output.WriteLine(jsonFor is not { } isa ? "" : JsonLine.Of(new
        {
            schema = Schema,
            arch = isa.ShortName(),
            mode = mode.ToString().ToLowerInvariant(),
            slot = slot is { } s ? $"0x{s:x}" : null,
            target = target is { } t ? $"0x{t:x}" : null,
            error = why,
        }));

        int exit = HcrLabCli.Success;
        int lineNumber = 0;
        foreach (var (line, overlong) in BoundedLines.Read(input, MaxBatchLineChars, unterminatedLastLine: true))
        {
            lineNumber++;
            if (overlong)
            {
                string tooLong = $"longer than {MaxBatchLineChars} characters (a pair of 64-bit addresses and a comment fit easily), starting '{line[..40]}...'";
                error.WriteLine($"line {lineNumber}: {tooLong}");
                Unanswered(null, null, tooLong);
                exit = HcrLabCli.UsageError;
                continue;
            }

            string text = line.Split('#', 2)[0].Trim();
            if (text.Length == 0)
            {
                continue;
            }

            string[] fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2 || !Addresses.TryParse(fields[0], out ulong slot) || !Addresses.TryParse(fields[1], out ulong target))
            {
                error.WriteLine($"line {lineNumber}: expected 'AT TARGET' as two hexadecimal addresses, got '{text}'");
                Unanswered(null, null, $"expected 'AT TARGET' as two hexadecimal addresses, got '{text}'");
                exit = HcrLabCli.UsageError;
                continue;
            }

            if (encode(slot, target, out string? refusal) is { } hex)
            {
                output.WriteLine(hex);
            }
            else
            {
                error.WriteLine($"line {lineNumber}: {refusal}");
                Unanswered(slot, target, refusal!);
                exit = exit == HcrLabCli.Success ? HcrLabCli.CheckFailed : exit;
            }
        }

        return exit;
    }

    private static void WriteText(in JumpPlan plan, byte[] bytes, TextWriter output)
    {
        using var disassembler = new JumpDisassembler();
        var report = disassembler.Check(plan, bytes);
        output.WriteLine($"form:    {plan.Form.Name} ({plan.Form.Syntax})");
        output.WriteLine($"mode:    {plan.Mode.ToString().ToLowerInvariant()}");
        output.WriteLine($"slot:    0x{plan.Slot:x}");
        output.WriteLine($"target:  0x{plan.Target:x}");
        output.WriteLine($"size:    {plan.Size} bytes");
        output.WriteLine($"bytes:   {Convert.ToHexStringLower(bytes)}");
        output.WriteLine(plan.LiteralOffset < 0
            ? "literal: none"
            : $"literal: {plan.Form.LiteralBytes} bytes at +{plan.LiteralOffset} (0x{plan.LiteralAddress:x})");
        output.WriteLine(plan.NeedsCacheMaintenance
            ? $"cache:   clean and invalidate the instruction cache over {plan.ChangedAddresses} (inclusive) after writing"
            : "cache:   no instruction-cache maintenance needed");
        output.WriteLine("disassembly:");
        foreach (var instruction in report.Instructions)
        {
            output.WriteLine($"  0x{instruction.Address:x}  {instruction.Bytes,-20}  {instruction.Text}");
        }

        foreach (var problem in report.Problems)
        {
            output.WriteLine($"warning: {problem}");
        }
    }

    private static object Describe(in JumpPlan plan, byte[] bytes)
    {
        using var disassembler = new JumpDisassembler();
        var report = disassembler.Check(plan, bytes);
        return new
        {
            schema = Schema,
            arch = plan.Form.Isa.ShortName(),
            form = plan.Form.Name,
            syntax = plan.Form.Syntax,
            mode = plan.Mode.ToString().ToLowerInvariant(),
            slot = $"0x{plan.Slot:x}",
            target = $"0x{plan.Target:x}",
            size = plan.Size,
            bytes = Convert.ToHexStringLower(bytes),
            literalOffset = plan.LiteralOffset < 0 ? (int?)null : plan.LiteralOffset,
            needsCacheMaintenance = plan.NeedsCacheMaintenance,
            disassembly = report.Instructions.Select(i => new { address = $"0x{i.Address:x}", bytes = i.Bytes, text = i.Text }),
            problems = report.Problems,
        };
    }
}
