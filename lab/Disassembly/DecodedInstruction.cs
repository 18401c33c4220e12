namespace HcrLab.Lab.Disassembly;

/// <summary>One line of a disassembly: an instruction, or a data line (<c>.quad</c>, <c>.word</c>, <c>.byte</c>).</summary>
/// <param name="Address">Where the bytes sit.</param>
/// <param name="Bytes">The bytes in memory order as lowercase hex without spaces, e.g. <c>e9fbffffff</c>.</param>
/// <param name="Text">Assembly text, e.g. <c>jmp 0x1000</c>.</param>
public sealed record DecodedInstruction(ulong Address, string Bytes, string Text)
{
    public override string ToString() => $"0x{Address:x}: {Bytes,-16} {Text}";
}
