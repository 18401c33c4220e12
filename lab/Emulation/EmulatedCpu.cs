using System.Buffers.Binary;
using HcrLab.Encoders;

namespace HcrLab.Lab.Emulation;

/// <summary>
/// One instruction set in one reusable Unicorn engine: lay out slots and target stubs anywhere in the address space,
/// run from a slot as if it had been called, and see where it went and what it disturbed.
/// </summary>
/// <remarks>
/// <para>Memory layout. Pages are mapped on demand as code is written. Two areas are the CPU's own and never hold a test
/// case (<see cref="IsReserved"/>): the halt page at 0x0000_F000, whose first address is the return address of every
/// run, and the stack pages [0x0007_F000, 0x0008_1000), with the stack pointer starting at 0x0008_0000. Both are low
/// and small so that random slots and targets, spread over the whole address space, rarely need to avoid them.</para>
/// <para>Translated code. Unicorn caches translated blocks: after new bytes are written over code that already ran, the
/// old translation keeps running until <see cref="RemoveTranslations"/> drops it. <see cref="Write"/> deliberately does
/// not drop anything, so the lab proves that an encoder reports every byte it changes: a re-point whose reported range
/// misses a changed instruction runs stale code and fails. <see cref="WriteFresh"/> is for laying out a new case over
/// memory that an earlier case used.</para>
/// <para>Not thread-safe: one instance per thread.</para>
/// </remarks>
public sealed class EmulatedCpu : IDisposable
{
    public const int PageSize = 4096;

    /// <summary>Where every run returns to; the run stops there before executing it.</summary>
    public const ulong HaltAddress = 0x0000_F000;

    /// <summary>The stack pointer on entry (x86: before the return address is pushed). 16-byte aligned for arm64.</summary>
    public const ulong StackTop = 0x0008_0000;

    /// <summary>The most instructions one run may execute: a slot and a stub take fewer than ten, so this only stops loops.</summary>
    public const ulong MaxInstructions = 64;

    /// <summary>
    /// Past this many mapped pages, <see cref="ResetIfOverBudget"/> starts a fresh engine (an engine keeps what it maps).
    /// Every mapping is a memory section to Unicorn's QEMU, which aborts the whole process (an assertion in
    /// <c>phys_section_add</c>) once an address space holds as many sections as the target's page size — 1,024 on ARM,
    /// whose QEMU pages are 1 KiB. 256 pages stays far below that on every CPU.
    /// </summary>
    public const int MaxMappedPages = 256;

    private const ulong HaltPageStart = HaltAddress;
    private const ulong StackPagesStart = StackTop - PageSize;
    private const ulong StackPagesEnd = StackTop + PageSize;

    private const ulong PageMask = PageSize - 1;

    private readonly HashSet<ulong> _pages = [];
    private readonly IReadOnlyList<CpuRegister> _checked;
    private readonly ulong[] _sentinels;
    private readonly ulong _resultPoison;
    private UnicornEngine _engine;

    /// <param name="isa">The instruction set.</param>
    /// <param name="scratch">
    /// Null: the ABI's rule (<see cref="CpuProfile.Preserved"/> is checked). Otherwise the names of the only general
    /// registers a slot may change (an external encoder's declared set): every other one, the ABI's scratch included, is checked.
    /// </param>
    public EmulatedCpu(InstructionSet isa, IReadOnlySet<string>? scratch = null)
    {
        Profile = CpuProfile.For(isa);
        _checked = scratch is null ? Profile.Preserved : [.. Profile.General.Where(r => !scratch.Contains(r.Name))];

        // Distinct per register, never a plausible address of this layout, and different from every register's neighbour.
        ulong sentinelBase = Profile.AddressBits == 64 ? 0x5EED_0000_0000_0100UL : 0x5EED_0100UL;
        _sentinels = [.. Enumerable.Range(0, _checked.Count).Select(i => sentinelBase + (ulong)i * 0x0101)];

        // Set before each run so a stub that never ran cannot leave the previous run's value behind. On 64-bit CPUs no
        // stub value can equal it (the stubs zero- or 32-bit-extend); on 32-bit CPUs only the value 0xBAD0BAD0 can.
        _resultPoison = 0xBAD0_BAD0_BAD0_BAD0UL & Profile.AddressMask;
        _engine = OpenEngine();
    }

    public CpuProfile Profile { get; }

    public InstructionSet Isa => Profile.Isa;

    /// <summary>Pages mapped in the current engine, the halt and stack pages included.</summary>
    public long MappedPages => _pages.Count;

    /// <summary>True when [<paramref name="address"/>, +<paramref name="length"/>) touches the halt page or the stack pages.</summary>
    public static bool IsReserved(ulong address, int length)
    {
        if (length <= 0)
        {
            return false;
        }

        ulong last = address + (ulong)(length - 1);
        if (last < address)
        {
            // Wraps past the top of the 64-bit space: it then covers address 0 onwards, which holds the halt page.
            return true;
        }

        return Overlaps(address, last, HaltPageStart, HaltPageStart + PageSize - 1)
            || Overlaps(address, last, StackPagesStart, StackPagesEnd - 1);
    }

    /// <summary>
    /// Writes bytes, mapping any 4 KiB page they need. Translations of code already run from these bytes are kept: call
    /// <see cref="RemoveTranslations"/> for the range that changed, or use <see cref="WriteFresh"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The bytes leave the CPU's address space.</exception>
    /// <exception cref="ArgumentException">The bytes touch the halt page or the stack (<see cref="IsReserved"/>).</exception>
    public void Write(ulong address, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        ulong last = RequireInAddressSpace(address, bytes.Length);
        if (IsReserved(address, bytes.Length))
        {
            throw new ArgumentException(
                $"[0x{address:X}, +{bytes.Length}) overlaps the CPU's halt page or stack (see {nameof(EmulatedCpu)}.{nameof(IsReserved)})", nameof(address));
        }

        for (ulong page = address & ~PageMask; ; page += PageSize)
        {
            if (_pages.Add(page))
            {
                _engine.Map(page, PageSize, MemoryPermissions.All);
            }

            if (page == (last & ~PageMask))
            {
                break;
            }
        }

        _engine.Write(address, bytes);
    }

    /// <summary>Writes bytes and drops any translation of them: for laying out a new case over memory an earlier case used.</summary>
    public void WriteFresh(ulong address, ReadOnlySpan<byte> bytes)
    {
        Write(address, bytes);
        RemoveTranslations(address, bytes.Length);
    }

    /// <exception cref="UnicornException">Some of the bytes are not mapped.</exception>
    public void Read(ulong address, Span<byte> bytes) => _engine.Read(address, bytes);

    /// <summary>
    /// Places a target stub that returns <paramref name="value"/> at <paramref name="target"/>. On ARM bit 0 of the target
    /// selects a Thumb stub at <c>target &amp; ~1</c>, otherwise an A32 one, whichever ARM instruction set this CPU runs
    /// slots in. The stub is written fresh: it is case layout, not a patch under test.
    /// </summary>
    public void PlaceStub(ulong target, uint value)
    {
        var stubIsa = Profile.Isa;
        ulong address = target;
        if (Profile.Arch == UnicornArch.Arm)
        {
            stubIsa = (target & 1) != 0 ? InstructionSet.Thumb : InstructionSet.A32;
            address = target & ~1UL;
        }

        Span<byte> stub = stackalloc byte[TargetStub.MaxSize];
        int size = TargetStub.Write(stubIsa, value, stub);
        WriteFresh(address, stub[..size]);
    }

    /// <summary>
    /// Drops Unicorn's translations of code in [<paramref name="address"/>, +<paramref name="length"/>); nothing for an
    /// empty range. The range is removed one mapped page at a time: Unicorn 2.0.1 turns the start of the range into an
    /// offset in the RAM block that holds it and walks on from there, so the part of a range that runs into another
    /// mapping (here, the next page) is missed and its stale translation keeps running (seen: an arm64 slot at a
    /// page's last word, whose second instruction sat on the next page).
    /// </summary>
    public void RemoveTranslations(ulong address, int length)
    {
        ulong remaining = (ulong)Math.Max(length, 0);
        while (remaining > 0)
        {
            ulong pageEnd = (address & ~PageMask) + PageSize;
            ulong piece = pageEnd == 0 ? remaining : Math.Min(remaining, pageEnd - address);
            ulong end = address + piece;
            _engine.RemoveTranslations(address, end == 0 ? ulong.MaxValue : end);
            address = end;
            remaining -= piece;
        }
    }

    /// <summary>
    /// Calls the code at <paramref name="slot"/> (in Thumb state for <see cref="InstructionSet.Thumb"/>): every preserved
    /// register holds a distinct sentinel, the return address is the halt address, and the run stops there or after
    /// <see cref="MaxInstructions"/>. An emulation fault is reported in <see cref="RunOutcome.Error"/>, never thrown.
    /// </summary>
    public RunOutcome RunFrom(ulong slot)
    {
        var preserved = _checked;
        for (int i = 0; i < preserved.Count; i++)
        {
            _engine.WriteRegister(preserved[i].Id, _sentinels[i]);
        }

        _engine.WriteRegister(Profile.Result.Id, _resultPoison);
        ulong entryStack = StackTop;
        if (Profile.LinkRegister is { } link)
        {
            _engine.WriteRegister(link.Id, HaltAddress);
        }
        else
        {
            // x86 calls push the return address; the stub's ret pops it, leaving the stack pointer at StackTop.
            Span<byte> returnAddress = stackalloc byte[Profile.AddressBits / 8];
            entryStack -= (ulong)returnAddress.Length;
            if (returnAddress.Length == 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(returnAddress, HaltAddress);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(returnAddress, (uint)HaltAddress);
            }

            _engine.Write(entryStack, returnAddress);
        }

        _engine.WriteRegister(Profile.StackPointer.Id, entryStack);

        string? error = null;
        try
        {
            _engine.Run(Profile.StartsInThumb ? slot | 1 : slot, HaltAddress, MaxInstructions);
        }
        catch (UnicornException fault) when (fault.IsEmulationFault)
        {
            error = fault.UnicornMessage;
        }

        ulong stoppedAt = _engine.ReadRegister(Profile.ProgramCounter.Id);
        ulong result = _engine.ReadRegister(Profile.Result.Id) & Profile.AddressMask;
        return new RunOutcome(result, stoppedAt, error is null && stoppedAt == HaltAddress, Clobbered(), error);
    }

    /// <summary>Drops the engine and everything mapped in it, and starts a fresh one.</summary>
    public void Reset()
    {
        _engine.Dispose();
        _pages.Clear();
        _engine = OpenEngine();
    }

    /// <summary>Resets when more than <see cref="MaxMappedPages"/> pages are mapped. Call it between cases, never within one.</summary>
    public bool ResetIfOverBudget()
    {
        if (_pages.Count <= MaxMappedPages)
        {
            return false;
        }

        Reset();
        return true;
    }

    public void Dispose() => _engine.Dispose();

    private static bool Overlaps(ulong first, ulong last, ulong otherFirst, ulong otherLast) => first <= otherLast && otherFirst <= last;

    private List<string>? CollectClobbered(List<string>? names, CpuRegister register, ulong expected)
    {
        if ((_engine.ReadRegister(register.Id) & Profile.AddressMask) == expected)
        {
            return names;
        }

        names ??= [];
        names.Add(register.Name);
        return names;
    }

    private IReadOnlyList<string> Clobbered()
    {
        List<string>? names = null;
        var preserved = _checked;
        for (int i = 0; i < preserved.Count; i++)
        {
            names = CollectClobbered(names, preserved[i], _sentinels[i]);
        }

        names = CollectClobbered(names, Profile.StackPointer, StackTop);
        if (Profile.LinkRegister is { } link)
        {
            names = CollectClobbered(names, link, HaltAddress);
        }

        return names is null ? [] : names;
    }

    private ulong RequireInAddressSpace(ulong address, int length)
    {
        ulong last = address + (ulong)(length - 1);
        if (last < address || last > Profile.AddressMask)
        {
            throw new ArgumentOutOfRangeException(
                nameof(address), $"[0x{address:X}, +{length}) runs past the end of the {Profile.AddressBits}-bit address space");
        }

        return last;
    }

    private UnicornEngine OpenEngine()
    {
        var engine = UnicornEngine.Open(Profile.Arch, Profile.Mode);
        try
        {
            engine.Map(HaltPageStart, PageSize, MemoryPermissions.All);
            engine.Map(StackPagesStart, StackPagesEnd - StackPagesStart, MemoryPermissions.Read | MemoryPermissions.Write);
            engine.Write(HaltPageStart, HaltPageFill(Profile.Arch));
        }
        catch
        {
            engine.Dispose();
            throw;
        }

        _pages.Add(HaltPageStart);
        for (ulong page = StackPagesStart; page < StackPagesEnd; page += PageSize)
        {
            _pages.Add(page);
        }

        return engine;
    }

    /// <summary>
    /// A page of trapping instructions, in case a run ever executes past the halt address: int3 (CC) on x86, A32
    /// <c>udf #0</c> (E7F000F0) on ARM, where runs return in ARM state because bit 0 of the halt address is clear, and
    /// arm64 <c>udf #0</c> (00000000), which is what a new page holds.
    /// </summary>
    private static byte[] HaltPageFill(UnicornArch arch)
    {
        var page = new byte[PageSize];
        switch (arch)
        {
            case UnicornArch.X86:
                page.AsSpan().Fill(0xCC);
                break;
            case UnicornArch.Arm:
                for (int i = 0; i < PageSize; i += 4)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(i), 0xE7F0_00F0);
                }

                break;
        }

        return page;
    }
}
