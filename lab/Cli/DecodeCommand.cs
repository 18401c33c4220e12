using System.CommandLine;
using System.Text.Json;
using HcrLab.Encoders;
using HcrLab.Lab.Disassembly;

namespace HcrLab.Lab.Cli;

/// <summary>
/// <c>hcrlab decode</c>: what cstool prints for some bytes (Capstone's disassembly), plus where the jump lands and which
/// of the lab's forms it is (<see cref="JumpRecognizer"/>).
/// </summary>
public static class DecodeCommand
{
    /// <summary>The <c>schema</c> of <c>decode --format json</c>'s object (docs/json.md).</summary>
    public const string Schema = "hcrlab.decode/1";

    public static Command Create()
    {
        var arch = EncodeCommand.ArchOption();
        var at = new Option<string>("--at")
        {
            HelpName = "ADDR",
            Description = "Address of the first byte, hexadecimal: 0x1000 (bare decimal digits such as 4096 are refused as ambiguous).",
            Required = true,
        };
        var format = new Option<string>("--format")
        {
            Description = "text: the disassembly, the form and where the jump lands. json: one JSON object (hcrlab.decode/1).",
            DefaultValueFactory = _ => "text",
        }.AcceptOnlyFromAmong("text", "json");
        var hex = new Argument<string[]>("hex")
        {
            Description = "The bytes in memory order as hex, e.g. e9fb0f0000 or 'e9 fb 0f 00 00' (0x and spaces allowed).",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("decode", "Disassemble bytes (Capstone) and say where the jump lands and which of the lab's forms it is.")
        {
            arch, at, format, hex,
        };
        command.SetAction(parsed =>
        {
            var output = parsed.InvocationConfiguration.Output;
            var error = parsed.InvocationConfiguration.Error;
            var isa = parsed.GetValue(arch);
            ulong slot;
            byte[] bytes;
            try
            {
                slot = Addresses.ParseOption(parsed.GetValue(at)!, "--at");
                bytes = ParseBytes(parsed.GetValue(hex)!);
            }
            catch (FormatException e)
            {
                error.WriteLine($"hcrlab decode: {e.Message}");
                return HcrLabCli.UsageError;
            }

            if (slot > JumpEncoders.For(isa).Facts.MaxAddress)
            {
                error.WriteLine($"hcrlab decode: --at 0x{slot:x} is beyond the {isa.ShortName()} address space");
                return HcrLabCli.UsageError;
            }

            if (!JumpDisassembler.TryLoad(out string? missing))
            {
                error.WriteLine($"hcrlab decode: {missing}");
                return HcrLabCli.MissingLibrary;
            }

            using var disassembler = new JumpDisassembler();
            var found = JumpRecognizer.Recognize(isa, slot, bytes, disassembler);
            int used = found?.Plan.Size ?? 0;
            var facts = JumpEncoders.For(isa).Facts;
            IReadOnlyList<DecodedInstruction> lines =
            [
                .. found?.Report.Instructions ?? [],
                .. used < bytes.Length ? disassembler.Disassemble(isa, (slot + (ulong)used) & facts.MaxAddress, bytes.AsSpan(used)) : [],
            ];

            // Bytes of no known form: the first instruction still lands somewhere when it is a direct jump.
            ulong? landing = found?.Plan.Target;
            if (found is null && disassembler.DecodeFirstJump(isa, slot, bytes).Destination is { } destination)
            {
                landing = isa == InstructionSet.Thumb ? destination | 1 : destination;
            }

            if (parsed.GetValue(format) == "json")
            {
                output.WriteLine(JsonLine.Of(new
                {
                    schema = Schema,
                    arch = isa.ShortName(),
                    at = $"0x{slot:x}",
                    bytes = Convert.ToHexStringLower(bytes),
                    instructions = lines.Select(i => new { address = $"0x{i.Address:x}", bytes = i.Bytes, text = i.Text }),
                    form = found?.Plan.Form.Name,
                    syntax = found?.Plan.Form.Syntax,
                    mode = found?.Plan.Mode.ToString().ToLowerInvariant(),
                    size = found?.Plan.Size,
                    target = landing is { } t ? $"0x{t:x}" : null,
                    problems = found?.Report.Problems ?? [],
                }));
                return HcrLabCli.Success;
            }

            foreach (var line in lines)
            {
                output.WriteLine($"0x{line.Address:x}  {line.Bytes,-20}  {line.Text}");
            }

            output.WriteLine(found is { Plan: var plan }
                ? $"form:  {plan.Form.Name} ({plan.Form.Syntax}), {plan.Mode.ToString().ToLowerInvariant()} mode, {plan.Size} bytes"
                    + (used < bytes.Length ? $"; the {bytes.Length - used} bytes after it are not part of it" : "")
                : "form:  none of the lab's forms");
            output.WriteLine(landing is not { } target ? "lands: unknown (the first instruction is not a direct jump)"
                : $"lands: 0x{target:x}" + (facts.HasThumbBit ? (target & 1) != 0 ? " (Thumb state)" : " (A32 state)" : ""));
            foreach (string problem in found?.Report.Problems ?? [])
            {
                output.WriteLine($"warning: {problem}");
            }

            return HcrLabCli.Success;
        });
        return command;
    }

    /// <exception cref="FormatException">Not an even number of hex digits.</exception>
    private static byte[] ParseBytes(string[] words)
    {
        string text = string.Concat(words.Select(w => w.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? w[2..] : w))
            .Replace(" ", "", StringComparison.Ordinal);
        try
        {
            return text.Length > 0 ? Convert.FromHexString(text) : throw new FormatException();
        }
        catch (FormatException)
        {
            throw new FormatException($"'{string.Join(' ', words)}' is not bytes as hex (an even number of hex digits, e.g. e9fb0f0000)");
        }
    }
}
