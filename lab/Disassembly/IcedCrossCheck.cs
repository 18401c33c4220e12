using Iced.Intel;

namespace HcrLab.Lab.Disassembly;

/// <summary>What Iced makes of one x86 instruction: its length and the address it jumps to or loads from.</summary>
internal readonly record struct IcedView(int Length, string Mnemonic, ulong? BranchTarget, ulong? MemoryAddress);

/// <summary>Iced, the second x86 decoder: the checker trusts an x86 target only when Iced and Capstone agree on it.</summary>
internal static class IcedCrossCheck
{
    /// <summary>Decodes the first instruction of <paramref name="code"/> at <paramref name="ip"/>; null when Iced finds no valid instruction.</summary>
    public static IcedView? DecodeFirst(int bitness, ulong ip, ReadOnlySpan<byte> code)
    {
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(code.ToArray()), ip);
        decoder.Decode(out var instruction);
        if (instruction.IsInvalid)
        {
            return null;
        }

        ulong? branch = instruction.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64
            ? instruction.NearBranchTarget
            : null;
        ulong? memory = null;
        if (instruction.Op0Kind == OpKind.Memory)
        {
            // A RIP-relative operand is resolved against the next instruction; an absolute disp32 is the address itself.
            memory = instruction.IsIPRelativeMemoryOperand
                ? instruction.IPRelativeMemoryAddress
                : instruction.MemoryBase == Register.None && instruction.MemoryIndex == Register.None
                    ? instruction.MemoryDisplacement64
                    : null;
        }

        return new IcedView(instruction.Length, instruction.Mnemonic.ToString().ToLowerInvariant(), branch, memory);
    }
}
