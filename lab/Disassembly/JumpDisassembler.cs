using System.Buffers.Binary;
using HcrLab.Encoders;

namespace HcrLab.Lab.Disassembly;

/// <summary>
/// Cross-checks encoded jumps with disassemblers we did not write: Capstone for every instruction set, and Iced as a
/// second opinion on x86. The decoded branch target (or the literal the code loads) must be the plan's target.
/// </summary>
/// <remarks>
/// One instance holds one Capstone disassembler per instruction set, created on first use. It is not thread-safe:
/// Capstone handles must not be shared between threads, so give each thread its own instance.
/// </remarks>
public sealed class JumpDisassembler : IDisposable
{
    private readonly CapstoneDecoder _capstone = new();

    /// <summary>Whether the disassemblers can run here (Capstone's native library loads); <paramref name="problem"/> says what to do when not.</summary>
    public static bool TryLoad(out string? problem) => CapstoneDecoder.TryLoad(out problem);

    /// <summary>
    /// Decodes the instruction bytes of <paramref name="plan"/> (only those: Capstone stops at a literal word) at
    /// <see cref="JumpPlan.Slot"/> and reports every way they differ from the plan.
    /// </summary>
    /// <param name="plan">The plan the bytes were written from.</param>
    /// <param name="slotBytes">The bytes at <see cref="JumpPlan.Slot"/>, at least <see cref="JumpPlan.Size"/> of them.</param>
    /// <exception cref="ArgumentException"><paramref name="slotBytes"/> is shorter than the plan.</exception>
    public DisassemblyReport Check(in JumpPlan plan, ReadOnlySpan<byte> slotBytes)
    {
        if (slotBytes.Length < plan.Size)
        {
            throw new ArgumentException($"the plan needs {plan.Size} bytes but the slot holds {slotBytes.Length}", nameof(slotBytes));
        }

        var form = plan.Form;
        var facts = JumpEncoders.For(form.Isa).Facts;
        int length = form.InstructionBytes;
        var decoded = _capstone.Decode(form.Isa, plan.Slot, slotBytes[..length]);
        var problems = new List<string>();
        var lines = new List<DecodedInstruction>(decoded.Select(ToLine));

        int decodedBytes = decoded.Sum(i => i.Bytes.Length);
        ulong? target = null;
        if (decodedBytes != length)
        {
            problems.Add($"Capstone decoded {decodedBytes} of the {length} instruction bytes of {form} at {Hex(plan.Slot)}; "
                + $"it could not decode {ToHex(slotBytes[decodedBytes..length])} at {Hex(Wrap(facts, plan.Slot + (ulong)decodedBytes))}");
            lines.AddRange(Disassemble(form.Isa, Wrap(facts, plan.Slot + (ulong)decodedBytes), slotBytes[decodedBytes..length]));
        }
        else
        {
            var context = new CheckContext(plan, facts, decoded, problems);
            target = form.Kind switch
            {
                JumpKind.Relative => CheckRelative(context),
                JumpKind.PageRelative => CheckPageRelative(context),
                _ => CheckLiteral(context, slotBytes),
            };
        }

        if (form.HasLiteral)
        {
            if (plan.LiteralOffset > length)
            {
                lines.AddRange(Disassemble(form.Isa, Wrap(facts, plan.Slot + (ulong)length), slotBytes[length..plan.LiteralOffset]));
            }

            ulong literal = ReadLiteral(slotBytes.Slice(plan.LiteralOffset, form.LiteralBytes));
            lines.Add(new DecodedInstruction(plan.LiteralAddress, ToHex(slotBytes.Slice(plan.LiteralOffset, form.LiteralBytes)),
                $"{DataDirective(form.Isa, form.LiteralBytes)} {Hex(literal)}"));
        }

        return new DisassemblyReport(lines, target, problems);
    }

    /// <summary>
    /// Decodes <paramref name="code"/> at <paramref name="address"/> for display: as much as Capstone can, with bytes it
    /// cannot decode shown as <c>.byte</c> lines (one instruction unit each: 1 byte on x86, 2 in Thumb, 4 in A32 and arm64).
    /// </summary>
    public IReadOnlyList<DecodedInstruction> Disassemble(InstructionSet isa, ulong address, ReadOnlySpan<byte> code)
    {
        var facts = JumpEncoders.For(isa).Facts;
        int unit = isa switch
        {
            InstructionSet.I386 or InstructionSet.Amd64 => 1,
            InstructionSet.Thumb => 2,
            _ => 4,
        };
        var lines = new List<DecodedInstruction>();
        int offset = 0;
        while (offset < code.Length)
        {
            ulong here = Wrap(facts, address + (ulong)offset);
            foreach (var instruction in _capstone.Decode(isa, here, code[offset..]))
            {
                lines.Add(ToLine(instruction));
                offset += instruction.Bytes.Length;
            }

            if (offset < code.Length)
            {
                var junk = code.Slice(offset, Math.Min(unit, code.Length - offset));
                string text = ".byte " + string.Join(", ", junk.ToArray().Select(b => $"0x{b:x2}"));
                lines.Add(new DecodedInstruction(Wrap(facts, address + (ulong)offset), ToHex(junk), text));
                offset += junk.Length;
            }
        }

        return lines;
    }

    /// <summary>
    /// For bytes of a form the lab does not know (an external encoder's): the first instruction as Capstone decodes it
    /// and, when it is a direct jump, where it goes. On x86 Iced must read the same length and destination.
    /// </summary>
    /// <returns>The first instruction (null when Capstone cannot decode it), the jump's destination (null when it is not a direct jump), and a disagreement between the disassemblers, if any.</returns>
    public (DecodedInstruction? First, ulong? Destination, string? Problem) DecodeFirstJump(InstructionSet isa, ulong address, ReadOnlySpan<byte> code)
    {
        // Only the first instruction goes to Capstone: it keeps a Thumb IT block's state in its handle across calls, so
        // bytes after it (a literal that reads as "it le") would turn the next call's branch into a conditional one.
        int length = isa switch
        {
            InstructionSet.I386 or InstructionSet.Amd64 => 15,
            InstructionSet.Thumb when code.Length >= 2 => (code[1] >> 3) is 0b11101 or 0b11110 or 0b11111 ? 4 : 2,
            _ => 4,
        };
        var decoded = _capstone.Decode(isa, address, code[..Math.Min(length, code.Length)]);
        if (decoded.Count == 0)
        {
            return (null, null, null);
        }

        var first = decoded[0];
        var facts = JumpEncoders.For(isa).Facts;
        bool direct = first.Mnemonic is "jmp" or "b" or "b.w" or "b.n" && first.Operands is [{ Kind: OperandKind.Immediate }, ..];
        ulong? destination = direct ? Wrap(facts, unchecked((ulong)first.Operands[0].Immediate)) : null;
        string? problem = null;
        if (isa is InstructionSet.I386 or InstructionSet.Amd64)
        {
            var iced = IcedCrossCheck.DecodeFirst(facts.AddressBits, address, code);
            if (iced is not { } view || view.Length != first.Bytes.Length || (direct && view.BranchTarget != destination))
            {
                problem = $"the disassemblers disagree on {ToHex(first.Bytes)} at {Hex(address)}: Capstone reads '{first.Text}', "
                    + (iced is { } v ? $"Iced a {v.Length}-byte {v.Mnemonic}{(v.BranchTarget is { } t ? $" to {Hex(t)}" : "")}" : "Iced cannot decode it");
            }
        }

        return (ToLine(first), destination, problem);
    }

    public void Dispose() => _capstone.Dispose();

    private static ulong? CheckRelative(CheckContext c)
    {
        if (!c.Expect(1) || !c.ExpectMnemonic(0, c.Plan.Form.Isa switch
        {
            InstructionSet.I386 or InstructionSet.Amd64 => ["jmp"],
            InstructionSet.Thumb => ["b", "b.w", "b.n"],
            _ => ["b"],
        }))
        {
            return null;
        }

        var instruction = c.Decoded[0];
        if (!c.Operand(0, 0, OperandKind.Immediate, out var operand))
        {
            return null;
        }

        ulong target = Wrap(c.Facts, unchecked((ulong)operand.Immediate));
        ulong expected = c.Facts.HasThumbBit ? c.Plan.Target & ~1UL : c.Plan.Target;
        if (target != expected)
        {
            c.Problems.Add($"'{instruction.Text}' at {Hex(instruction.Address)} branches to {Hex(target)}, but the plan's target is {Hex(expected)}");
        }

        // A direct branch keeps the state it runs in: Thumb code needs a Thumb target (bit 0 set), A32 code an A32 one.
        bool thumbTarget = (c.Plan.Target & 1) != 0;
        if (c.Plan.Form.Isa == InstructionSet.Thumb && !thumbTarget)
        {
            c.Problems.Add($"'{instruction.Text}' at {Hex(instruction.Address)} stays in Thumb state, but the target {Hex(c.Plan.Target)} "
                + "has bit 0 clear (an A32 address)");
        }
        else if (c.Plan.Form.Isa == InstructionSet.A32 && thumbTarget)
        {
            c.Problems.Add($"'{instruction.Text}' at {Hex(instruction.Address)} stays in A32 state, but the target {Hex(c.Plan.Target)} "
                + "has bit 0 set (a Thumb address)");
        }

        if (c.Facts.Isa is InstructionSet.I386 or InstructionSet.Amd64)
        {
            CrossCheckWithIced(c, target, isBranch: true);
        }

        return target;
    }

    private static ulong? CheckPageRelative(CheckContext c)
    {
        if (!c.Expect(3) || !c.ExpectMnemonic(0, ["adrp"]) || !c.ExpectMnemonic(1, ["add"]) || !c.ExpectMnemonic(2, ["br"]))
        {
            return null;
        }

        bool shaped = c.Register(0, 0, "x16") & c.Operand(0, 1, OperandKind.Immediate, out var page)
            & c.Register(1, 0, "x16") & c.Register(1, 1, "x16") & c.Operand(1, 2, OperandKind.Immediate, out var low)
            & c.Register(2, 0, "x16");
        if (!shaped)
        {
            return null;
        }

        ulong target = unchecked((ulong)page.Immediate + (ulong)low.Immediate);
        if (target != c.Plan.Target)
        {
            c.Problems.Add($"'{c.Decoded[0].Text}; {c.Decoded[1].Text}' at {Hex(c.Decoded[0].Address)} computes {Hex((ulong)page.Immediate)} + "
                + $"{Hex((ulong)low.Immediate)} = {Hex(target)}, but the plan's target is {Hex(c.Plan.Target)}");
        }

        return target;
    }

    private static ulong? CheckLiteral(CheckContext c, ReadOnlySpan<byte> slotBytes)
    {
        var isa = c.Plan.Form.Isa;
        ulong? loadAddress = isa switch
        {
            InstructionSet.I386 or InstructionSet.Amd64 => X86LoadAddress(c),
            InstructionSet.A32 => ArmLoadAddress(c, ["ldr"], pc => pc + 8),
            InstructionSet.Thumb => ArmLoadAddress(c, ["ldr.w", "ldr"], pc => (pc + 4) & ~3UL),
            _ => Arm64LoadAddress(c),
        };
        if (loadAddress is not { } address)
        {
            return null;
        }

        if (address != c.Plan.LiteralAddress)
        {
            c.Problems.Add($"'{c.Decoded[0].Text}' at {Hex(c.Decoded[0].Address)} loads its target from {Hex(address)}, "
                + $"but the plan's literal is at {Hex(c.Plan.LiteralAddress)}");
        }

        int size = c.Plan.Form.LiteralBytes;
        ulong stored = ReadLiteral(slotBytes.Slice(c.Plan.LiteralOffset, size));
        if (stored != c.Plan.Target)
        {
            c.Problems.Add($"the literal at {Hex(c.Plan.LiteralAddress)} holds {Hex(stored)}, but the plan's target is {Hex(c.Plan.Target)}");
        }

        // The decoder's view follows the load: the word at the address the code reads, when that lies in the slot.
        ulong offset = Wrap(c.Facts, address - c.Plan.Slot);
        return offset <= (ulong)(slotBytes.Length - size) ? ReadLiteral(slotBytes.Slice((int)offset, size)) : null;
    }

    private static ulong? X86LoadAddress(CheckContext c)
    {
        if (!c.Expect(1) || !c.ExpectMnemonic(0, ["jmp"]) || !c.Operand(0, 0, OperandKind.Memory, out var memory))
        {
            return null;
        }

        var instruction = c.Decoded[0];
        ulong address;
        if (c.Facts.AddressBits == 64)
        {
            if (memory.MemoryBase != "rip")
            {
                c.Problems.Add($"'{instruction.Text}' at {Hex(instruction.Address)} is not RIP-relative (base {memory.MemoryBase ?? "none"})");
                return null;
            }

            address = instruction.Address + (ulong)instruction.Bytes.Length + unchecked((ulong)memory.Displacement);
        }
        else
        {
            if (memory.MemoryBase is not null)
            {
                c.Problems.Add($"'{instruction.Text}' at {Hex(instruction.Address)} is not an absolute memory operand (base {memory.MemoryBase})");
                return null;
            }

            address = Wrap(c.Facts, unchecked((ulong)memory.Displacement));
        }

        CrossCheckWithIced(c, address, isBranch: false);
        return address;
    }

    private static ulong? ArmLoadAddress(CheckContext c, string[] mnemonics, Func<ulong, ulong> pcBase)
    {
        if (!c.Expect(1) || !c.ExpectMnemonic(0, mnemonics)
            || !(c.Register(0, 0, "pc") & c.Operand(0, 1, OperandKind.Memory, out var memory)))
        {
            return null;
        }

        var instruction = c.Decoded[0];
        if (memory.MemoryBase != "pc")
        {
            c.Problems.Add($"'{instruction.Text}' at {Hex(instruction.Address)} loads relative to {memory.MemoryBase ?? "nothing"}, not pc");
            return null;
        }

        return Wrap(c.Facts, pcBase(instruction.Address) + unchecked((ulong)memory.Displacement));
    }

    private static ulong? Arm64LoadAddress(CheckContext c)
    {
        if (!c.Expect(2) || !c.ExpectMnemonic(0, ["ldr"]) || !c.ExpectMnemonic(1, ["br"]))
        {
            return null;
        }

        bool shaped = c.Register(0, 0, "x16") & c.Operand(0, 1, OperandKind.Immediate, out var label) & c.Register(1, 0, "x16");
        return shaped ? unchecked((ulong)label.Immediate) : null;
    }

    /// <summary>Iced must see the same length and the same branch target or load address as Capstone did.</summary>
    private static void CrossCheckWithIced(CheckContext c, ulong capstoneAddress, bool isBranch)
    {
        var instruction = c.Decoded[0];
        var iced = IcedCrossCheck.DecodeFirst(c.Facts.AddressBits, instruction.Address, instruction.Bytes);
        if (iced is not { } view)
        {
            c.Problems.Add($"Iced cannot decode {ToHex(instruction.Bytes)} at {Hex(instruction.Address)}, which Capstone reads as '{instruction.Text}'");
            return;
        }

        if (view.Length != instruction.Bytes.Length || view.Mnemonic != "jmp")
        {
            c.Problems.Add($"Iced reads {ToHex(instruction.Bytes)} at {Hex(instruction.Address)} as a {view.Length}-byte {view.Mnemonic}, "
                + $"Capstone as the {instruction.Bytes.Length}-byte '{instruction.Text}'");
            return;
        }

        ulong? icedAddress = isBranch ? view.BranchTarget : view.MemoryAddress;
        if (icedAddress != capstoneAddress)
        {
            string what = isBranch ? "branch target" : "load address";
            string icedText = icedAddress is { } a ? Hex(a) : "none";
            c.Problems.Add($"the disassemblers disagree on the {what} of {ToHex(instruction.Bytes)} at {Hex(instruction.Address)}: "
                + $"Capstone {Hex(capstoneAddress)}, Iced {icedText}");
        }
    }

    private static DecodedInstruction ToLine(CapstoneInstruction instruction) => new(instruction.Address, ToHex(instruction.Bytes), instruction.Text);

    private static string DataDirective(InstructionSet isa, int size) => size == 8 ? ".quad" : isa is InstructionSet.I386 ? ".long" : ".word";

    private static ulong ReadLiteral(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    private static ulong Wrap(CpuFacts facts, ulong address) => address & facts.MaxAddress;

    private static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static string Hex(ulong value) => $"0x{value:x}";

    /// <summary>The plan, its CPU's facts and Capstone's instructions, with the shape checks every form shares.</summary>
    private sealed record CheckContext(JumpPlan Plan, CpuFacts Facts, IReadOnlyList<CapstoneInstruction> Decoded, List<string> Problems)
    {
        public bool Expect(int count)
        {
            if (Decoded.Count == count)
            {
                return true;
            }

            Problems.Add($"{Plan.Form} should be {count} instruction(s) at {Hex(Plan.Slot)}, but Capstone decoded {Decoded.Count}: "
                + string.Join("; ", Decoded.Select(i => i.Text)));
            return false;
        }

        public bool ExpectMnemonic(int index, string[] mnemonics)
        {
            var instruction = Decoded[index];
            if (mnemonics.Contains(instruction.Mnemonic))
            {
                return true;
            }

            Problems.Add($"{Plan.Form} expects {string.Join(" or ", mnemonics.Select(m => $"'{m}'"))} at {Hex(instruction.Address)}, "
                + $"but Capstone decoded '{instruction.Text}'");
            return false;
        }

        public bool Operand(int index, int operandIndex, OperandKind kind, out DecodedOperand operand)
        {
            var instruction = Decoded[index];
            if (operandIndex < instruction.Operands.Count && instruction.Operands[operandIndex].Kind == kind)
            {
                operand = instruction.Operands[operandIndex];
                return true;
            }

            operand = default;
            Problems.Add($"operand {operandIndex + 1} of '{instruction.Text}' at {Hex(instruction.Address)} is not a {kind.ToString().ToLowerInvariant()} operand");
            return false;
        }

        public bool Register(int index, int operandIndex, string register)
        {
            if (!Operand(index, operandIndex, OperandKind.Register, out var operand))
            {
                return false;
            }

            if (operand.Register == register)
            {
                return true;
            }

            var instruction = Decoded[index];
            Problems.Add($"operand {operandIndex + 1} of '{instruction.Text}' at {Hex(instruction.Address)} is {operand.Register}, not {register}");
            return false;
        }
    }
}
