namespace HcrLab.Runtime;

/// <summary>
/// A CPU's bad-call thunk as data (<see cref="HostCpu.BadCallThunk"/>): <see cref="Code"/> at the thunk's start loads
/// the first two C arguments of the handler from the thunk itself — the jump table's handle (8 bytes at
/// <see cref="HandleOffset"/>) and the slot's index (4 bytes at <see cref="IndexOffset"/>), or takes them as immediates
/// inside <see cref="Code"/>'s instructions — and the encoder's data-form jump to the handler follows at
/// <see cref="JumpOffset"/>. Every other byte is the encoder's padding.
/// </summary>
/// <param name="Size">Bytes of a thunk.</param>
/// <param name="Alignment">A thunk's alignment (enough for every aligned field in it).</param>
/// <param name="Code">The instructions before the jump, with zeros where the handle and the index go.</param>
/// <param name="HandleOffset">Where the table's handle (little-endian, 8 bytes) is written.</param>
/// <param name="IndexOffset">Where the slot's index (little-endian, 4 bytes) is written.</param>
/// <param name="JumpOffset">Where the jump to the handler starts.</param>
public sealed record BadCallThunkTemplate(int Size, int Alignment, byte[] Code, int HandleOffset, int IndexOffset, int JumpOffset);
