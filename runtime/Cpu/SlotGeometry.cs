using HcrLab.Encoders;

namespace HcrLab.Runtime;

/// <summary>
/// Where a CPU's jump-table slots put their jumps, as data (<see cref="HostCpu.Slots"/>). A direct slot is
/// <see cref="DirectSize"/> bytes: its entry, at <see cref="EntryOffset"/>, is the CPU's direct branch
/// (<see cref="DirectForm"/>), re-pointed by one aligned store of what changes; its tail, at <see cref="TailOffset"/>, is
/// the encoder's data form (<see cref="IndirectForm"/>) for targets out of the branch's reach, which the entry then
/// jumps to. An indirect slot is the data form alone, in the encoder's <see cref="CpuFacts.TableSlot"/>.
/// </summary>
/// <param name="DirectForm">The encoder's form of the entry (<see cref="JumpForm.Name"/>).</param>
/// <param name="IndirectForm">The encoder's literal form: an indirect slot, and a direct slot's tail.</param>
/// <param name="DirectSize">Bytes of a direct slot, and its alignment (a slot never crosses a cache line).</param>
/// <param name="EntryOffset">Where a direct slot's entry is, from its start: what callers call.</param>
/// <param name="TailOffset">Where a direct slot's tail is, from its start.</param>
public sealed record SlotGeometry(string DirectForm, string IndirectForm, int DirectSize, int EntryOffset, int TailOffset);
