using Gee.External.Capstone;
using Gee.External.Capstone.Arm;
using Gee.External.Capstone.Arm64;
using Gee.External.Capstone.X86;
using HcrLab.Encoders;

namespace HcrLab.Lab.Disassembly;

/// <summary>The kind of a decoded operand, the same for every CPU.</summary>
internal enum OperandKind
{
    Register,
    Immediate,
    Memory,
    Other,
}

/// <summary>
/// One operand as the checker reads it. Register names are Capstone's lowercase names (<c>x16</c>, <c>pc</c>, <c>rip</c>);
/// a memory operand's displacement is signed.
/// </summary>
internal readonly record struct DecodedOperand(OperandKind Kind, string? Register, long Immediate, string? MemoryBase, long Displacement);

/// <summary>One instruction as Capstone decoded it, in a shape that does not depend on the CPU.</summary>
internal sealed record CapstoneInstruction(ulong Address, byte[] Bytes, string Mnemonic, string OperandText, IReadOnlyList<DecodedOperand> Operands)
{
    public string Text => OperandText.Length == 0 ? Mnemonic : $"{Mnemonic} {OperandText}";
}

/// <summary>
/// Capstone, one native disassembler per instruction set, created on first use and kept. This is the only type that
/// touches Capstone.NET's classes, so its shapes (signed addresses, per-CPU operand types) stop here. Not thread-safe:
/// a Capstone handle must not be used by two threads at once.
/// </summary>
internal sealed class CapstoneDecoder : IDisposable
{
    private CapstoneX86Disassembler? _i386;
    private CapstoneX86Disassembler? _amd64;
    private CapstoneArmDisassembler? _a32;
    private CapstoneArmDisassembler? _thumb;
    private CapstoneArm64Disassembler? _arm64;

    /// <summary>
    /// What the user has to do when Capstone's native library cannot be loaded: it ships inside the Gee.External.Capstone
    /// package (runtimes/RID/native/libcapstone.so) and is copied next to hcrlab.dll by the build.
    /// </summary>
    public const string MissingAdvice =
        "Capstone (libcapstone.so from the Gee.External.Capstone package, runtimes/<rid>/native/) cannot be loaded: "
        + "rebuild hcrlab (./build.sh verify restores and builds it) so that the library is copied next to hcrlab.dll";

    /// <summary>Whether Capstone's native library loads here; <paramref name="problem"/> is <see cref="MissingAdvice"/> and the loader's reason when not.</summary>
    public static bool TryLoad(out string? problem)
    {
        try
        {
            using var probe = CapstoneDisassembler.CreateArm64Disassembler(Arm64DisassembleMode.Arm);
            problem = null;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException or TypeInitializationException)
        {
            string reason = (e.InnerException ?? e).Message.ReplaceLineEndings(" ");
            problem = $"{MissingAdvice} ({(reason.Length <= 200 ? reason : reason[..200] + "...")})";
            return false;
        }
    }

    /// <summary>
    /// Decodes from the start of <paramref name="code"/> until the end or the first bytes Capstone cannot decode (it
    /// stops there rather than skipping). Addresses wrap modulo the instruction set's address width.
    /// </summary>
    public IReadOnlyList<CapstoneInstruction> Decode(InstructionSet isa, ulong address, ReadOnlySpan<byte> code)
    {
        byte[] bytes = code.ToArray();
        long start = unchecked((long)address);
        return isa switch
        {
            InstructionSet.I386 => [.. X86(ref _i386, X86DisassembleMode.Bit32).Disassemble(bytes, start).Select(i => FromX86(i, 32))],
            InstructionSet.Amd64 => [.. X86(ref _amd64, X86DisassembleMode.Bit64).Disassemble(bytes, start).Select(i => FromX86(i, 64))],
            InstructionSet.A32 => [.. Arm(ref _a32, ArmDisassembleMode.Arm).Disassemble(bytes, start).Select(FromArm)],
            InstructionSet.Thumb => [.. Arm(ref _thumb, ArmDisassembleMode.Thumb).Disassemble(bytes, start).Select(FromArm)],
            InstructionSet.Arm64 => [.. Arm64().Disassemble(bytes, start).Select(FromArm64)],
            _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "unknown instruction set"),
        };
    }

    public void Dispose()
    {
        _i386?.Dispose();
        _amd64?.Dispose();
        _a32?.Dispose();
        _thumb?.Dispose();
        _arm64?.Dispose();
        _i386 = _amd64 = null;
        _a32 = _thumb = null;
        _arm64 = null;
    }

    private static CapstoneX86Disassembler X86(ref CapstoneX86Disassembler? slot, X86DisassembleMode mode)
    {
        if (slot is null)
        {
            slot = CapstoneDisassembler.CreateX86Disassembler(mode);
            slot.EnableInstructionDetails = true;
            slot.DisassembleSyntax = DisassembleSyntax.Intel;
        }

        return slot;
    }

    private static CapstoneArmDisassembler Arm(ref CapstoneArmDisassembler? slot, ArmDisassembleMode mode)
    {
        if (slot is null)
        {
            slot = CapstoneDisassembler.CreateArmDisassembler(mode);
            slot.EnableInstructionDetails = true;
        }

        return slot;
    }

    private CapstoneArm64Disassembler Arm64()
    {
        if (_arm64 is null)
        {
            _arm64 = CapstoneDisassembler.CreateArm64Disassembler(Arm64DisassembleMode.Arm);
            _arm64.EnableInstructionDetails = true;
        }

        return _arm64;
    }

    private static CapstoneInstruction FromX86(X86Instruction instruction, int bits)
    {
        var operands = instruction.Details.Operands.Select(o => o.Type switch
        {
            X86OperandType.Register => new DecodedOperand(OperandKind.Register, o.Register.Name, 0, null, 0),
            X86OperandType.Immediate => new DecodedOperand(OperandKind.Immediate, null, o.Immediate, null, 0),
            X86OperandType.Memory => new DecodedOperand(OperandKind.Memory, null, 0, o.Memory.Base?.Name, o.Memory.Displacement),
            _ => new DecodedOperand(OperandKind.Other, null, 0, null, 0),
        });
        return Create(instruction.Address, bits, instruction.Bytes, instruction.Mnemonic, instruction.Operand, operands);
    }

    private static CapstoneInstruction FromArm(ArmInstruction instruction)
    {
        var operands = instruction.Details.Operands.Select(o => o.Type switch
        {
            ArmOperandType.Register => new DecodedOperand(OperandKind.Register, o.Register.Name, 0, null, 0),
            ArmOperandType.Immediate => new DecodedOperand(OperandKind.Immediate, null, o.Immediate, null, 0),
            // Capstone 4 gives an immediate offset with its sign ([pc, #-4] is -4); IsSubtracted is only for a register offset.
            ArmOperandType.Memory => new DecodedOperand(OperandKind.Memory, null, 0, o.Memory.Base?.Name, o.Memory.Displacement),
            _ => new DecodedOperand(OperandKind.Other, null, 0, null, 0),
        });
        return Create(instruction.Address, 32, instruction.Bytes, instruction.Mnemonic, instruction.Operand, operands);
    }

    private static CapstoneInstruction FromArm64(Arm64Instruction instruction)
    {
        var operands = instruction.Details.Operands.Select(o => o.Type switch
        {
            Arm64OperandType.Register => new DecodedOperand(OperandKind.Register, o.Register.Name, 0, null, 0),
            Arm64OperandType.Immediate => new DecodedOperand(OperandKind.Immediate, null, ShiftedImmediate(o), null, 0),
            Arm64OperandType.Memory => new DecodedOperand(OperandKind.Memory, null, 0, o.Memory.Base?.Name, o.Memory.Displacement),
            _ => new DecodedOperand(OperandKind.Other, null, 0, null, 0),
        });
        return Create(instruction.Address, 64, instruction.Bytes, instruction.Mnemonic, instruction.Operand, operands);
    }

    /// <summary><c>ADD Xd, Xn, #imm, LSL #12</c> decodes as the unshifted immediate plus a shift: apply it.</summary>
    private static long ShiftedImmediate(Arm64Operand operand) =>
        operand.ShiftOperation == Arm64ShiftOperation.ARM64_SFT_LSL ? operand.Immediate << operand.ShiftValue : operand.Immediate;

    private static CapstoneInstruction Create(long address, int bits, byte[] bytes, string mnemonic, string operandText, IEnumerable<DecodedOperand> operands)
    {
        ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        return new CapstoneInstruction(unchecked((ulong)address) & mask, bytes, mnemonic, operandText ?? "", [.. operands]);
    }
}
