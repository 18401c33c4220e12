using System.Buffers.Binary;
using HcrLab.Encoders;

namespace HcrLab.Lab.Emulation;

/// <summary>
/// The code placed at a jump's target: a function that puts a 32-bit value in the result register and returns to its
/// caller. Reading the value back proves the jump arrived at this target and not at another case's stub.
/// </summary>
public static class TargetStub
{
    /// <summary>The largest stub (A32 and arm64: three 4-byte instructions).</summary>
    public const int MaxSize = 12;

    /// <summary>The stub's size in bytes for an instruction set (on ARM the stub's own state decides, see <see cref="Write"/>).</summary>
    public static int Size(InstructionSet isa) => isa switch
    {
        InstructionSet.I386 or InstructionSet.Amd64 => 6,
        InstructionSet.A32 or InstructionSet.Arm64 => 12,
        InstructionSet.Thumb => 10,
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "unknown instruction set"),
    };

    /// <summary>Writes the stub for <paramref name="isa"/> returning <paramref name="value"/>; returns the bytes written.</summary>
    public static int Write(InstructionSet isa, uint value, Span<byte> destination)
    {
        int size = Size(isa);
        if (destination.Length < size)
        {
            throw new ArgumentException($"a {isa.ShortName()} stub needs {size} bytes, got {destination.Length}", nameof(destination));
        }

        switch (isa)
        {
            case InstructionSet.I386:
            case InstructionSet.Amd64:
                // mov eax, imm32 = B8+rd id (rd = 0 for eax); in 64-bit mode it zero-extends into rax. ret = C3.
                destination[0] = 0xB8;
                BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], value);
                destination[5] = 0xC3;
                break;

            case InstructionSet.A32:
                // movw (A2): cond=1110 0011 0000 imm4 Rd imm12; movt (A1): cond=1110 0011 0100 imm4 Rd imm12, where
                // imm16 = imm4:imm12 and Rd = r0. bx lr: cond=1110 0001 0010 1111 1111 1111 0001 Rm=1110.
                WriteWord(destination, 0xE300_0000 | A32Immediate(value & 0xFFFF));
                WriteWord(destination[4..], 0xE340_0000 | A32Immediate(value >> 16));
                WriteWord(destination[8..], 0xE12F_FF1E);
                break;

            case InstructionSet.Thumb:
                // movw (T3): 11110 i 10 0100 imm4 | 0 imm3 Rd imm8; movt (T1): 11110 i 10 1100 imm4 | 0 imm3 Rd imm8,
                // where imm16 = imm4:i:imm3:imm8 and Rd = r0; the first halfword is stored first. bx lr (T1):
                // 010001 11 0 Rm=1110 000 = 0x4770.
                WriteThumbWide(destination, 0xF240, value & 0xFFFF);
                WriteThumbWide(destination[4..], 0xF2C0, value >> 16);
                BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], 0x4770);
                break;

            case InstructionSet.Arm64:
                // movz x0, #imm16: sf=1 opc=10 100101 hw=00 imm16 Rd; movk x0, #imm16, lsl #16: sf=1 opc=11 100101 hw=01
                // imm16 Rd, with imm16 in bits 20..5 and Rd = x0. ret (x30): 1101011 0010 11111 000000 Rn=11110 00000.
                WriteWord(destination, 0xD280_0000 | ((value & 0xFFFF) << 5));
                WriteWord(destination[4..], 0xF2A0_0000 | ((value >> 16) << 5));
                WriteWord(destination[8..], 0xD65F_03C0);
                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(isa), isa, "unknown instruction set");
        }

        return size;
    }

    /// <summary>imm4 in bits 19..16, imm12 in bits 11..0 (Rd = r0 leaves bits 15..12 clear).</summary>
    private static uint A32Immediate(uint imm16) => ((imm16 >> 12) << 16) | (imm16 & 0xFFF);

    private static void WriteThumbWide(Span<byte> destination, ushort opcode, uint imm16)
    {
        uint imm4 = imm16 >> 12;
        uint i = (imm16 >> 11) & 1;
        uint imm3 = (imm16 >> 8) & 7;
        uint imm8 = imm16 & 0xFF;
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)(opcode | (i << 10) | imm4));
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)((imm3 << 12) | imm8));
    }

    private static void WriteWord(Span<byte> destination, uint word) => BinaryPrimitives.WriteUInt32LittleEndian(destination, word);
}
