using System.Runtime.InteropServices;
using HcrLab.Runtime;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

[TestFixture]
[Category("Runtime")]
public sealed unsafe class ExecutableMemoryTests
{
    private const ulong Chunk = ExecutableMemory.CommitChunk;

    [Test]
    public void BothViewsSeeTheSameBytes()
    {
        using var memory = ExecutableMemory.Reserve(Chunk);
        ulong offset = memory.Allocate(16, 8);
        byte[] pattern = [0x0F, 0x1E, 0xFA, 0x90, 0xC3, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB];
        pattern.CopyTo(memory.Writable(offset, 16));

        Assert.That(memory.WritableBase, Is.Not.EqualTo(memory.ExecutableBase), "two views at different addresses");
        Assert.That(Convert.ToHexString(memory.Executable(offset, 16)), Is.EqualTo("0F1EFA90C3112233445566778899AABB"));
        Assert.That(*(ulong*)(memory.ExecutableAddress(offset) + 8), Is.EqualTo(0xBBAA998877665544UL));
    }

    [Test]
    public void CodeWrittenThroughTheWritableViewRunsFromTheExecutableView()
    {
        using var memory = ExecutableMemory.Reserve(Chunk);
        ulong offset = memory.Allocate(6, 16);
        byte[] returns42 = [0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3]; // mov eax, 42; ret
        returns42.CopyTo(memory.Writable(offset, 6));

        var function = (delegate* unmanaged<int>)memory.ExecutableAddress(offset);
        Assert.That(function(), Is.EqualTo(42));
    }

    [Test]
    public void TheExecutableViewIsNotWritableAndNoMappingIsWritableAndExecutable()
    {
        using var memory = ExecutableMemory.Reserve(2 * Chunk);
        memory.Allocate((int)Chunk + 1, 8); // two commits

        var mappings = ProcessMemoryMap.Read();
        var executable = mappings.Where(m => m.Start >= (ulong)memory.ExecutableBase && m.End <= (ulong)memory.ExecutableBase + memory.Capacity).ToList();
        var writable = mappings.Where(m => m.Start >= (ulong)memory.WritableBase && m.End <= (ulong)memory.WritableBase + memory.Capacity).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(executable.Select(m => m.Permissions), Is.EqualTo(new[] { "r-xs" }), "committed executable view");
            Assert.That(executable[0].Length, Is.EqualTo(2 * Chunk));
            Assert.That(executable[0].Path, Does.StartWith("/memfd:hcrlab-jump-table"));
            Assert.That(writable.Select(m => m.Permissions), Is.EqualTo(new[] { "rw-s" }), "committed writable view");
            Assert.That(mappings.Where(m => m.IsWritable && m.IsExecutable).Select(m => m.ToString()), Is.Empty, "rwx mappings in the process");
        });
    }

    [Test]
    public void PagesAreCommittedAsAllocationsGrow()
    {
        using var memory = ExecutableMemory.Reserve(3 * Chunk);
        Assert.That((memory.Capacity, memory.Committed, memory.Used), Is.EqualTo((3 * Chunk, 0UL, 0UL)));

        memory.Allocate(16, 8);
        Assert.That((memory.Committed, memory.Used), Is.EqualTo((Chunk, 16UL)));

        memory.Allocate((int)Chunk, 8);
        Assert.That((memory.Committed, memory.Used), Is.EqualTo((2 * Chunk, Chunk + 16)));

        var reserved = ProcessMemoryMap.Read().Single(m => m.Contains((ulong)memory.ExecutableBase + 2 * Chunk));
        Assert.That(reserved.Permissions, Is.EqualTo("---p"), "the uncommitted rest stays reserved with no access");
    }

    [Test]
    public void AFullRangeGivesATypedError()
    {
        using var memory = ExecutableMemory.Reserve(Chunk);
        memory.Allocate((int)Chunk - 8, 8);
        memory.Allocate(8, 8);

        var full = Assert.Throws<ExecutableMemoryFullException>(() => memory.Allocate(1, 1))!;
        Assert.That((full.Capacity, full.Used, full.Requested), Is.EqualTo((Chunk, Chunk, 1UL)));
        Assert.That(full.Message, Is.EqualTo("executable memory is full: 65536 of 65536 bytes used, 1 more requested"));
    }

    [Test]
    public void TheExecutableViewIsPlacedWithinRel32ReachOfLibc()
    {
        using var memory = ExecutableMemory.Reserve(16 * Chunk);
        Assert.That(memory.IsNearAnchor, Is.True, memory.Placement);
        var anchor = memory.Anchor!.Value;
        ulong low = (ulong)memory.ExecutableBase, high = low + memory.Capacity;
        ulong farthest = Math.Max(high > anchor.Start ? high - anchor.Start : anchor.Start - high, anchor.End > low ? anchor.End - low : low - anchor.End);
        Assert.That(farthest, Is.LessThanOrEqualTo((ulong)int.MaxValue), memory.Placement);
        Assert.That(anchor.Path, Does.Contain("libc.so"));
    }

    [Test]
    public void WithoutAnAnchorTheViewGoesAnywhere()
    {
        using var memory = ExecutableMemory.Reserve(Chunk, anchor: null);
        Assert.That((memory.IsNearAnchor, memory.Anchor, memory.Placement), Is.EqualTo((false, (MemoryMapping?)null, "anywhere (no anchor requested)")));

        using var unknown = ExecutableMemory.Reserve(Chunk, anchor: "no-such-library.so");
        Assert.That(unknown.Placement, Is.EqualTo("anywhere (no mapping named like 'no-such-library.so')"));
    }

    [Test]
    public void MapsLinesParse()
    {
        string[] lines =
        [
            "7f8c3ee38000-7f8c3ee5e000 r--p 00000000 fe:00 332096                     /usr/lib/x86_64-linux-gnu/libc.so.6",
            "5559b15dc000-5559b15de000 r--p 00000000 fe:00 247270                     /usr/bin/cat",
            "7f8c3f00d000-7f8c3f01a000 rw-p 00000000 00:00 0 ",
            "7f0000000000-7f0000010000 r-xs 00000000 00:01 12                         /memfd:hcrlab-jump-table (deleted)",
            "not a mapping",
        ];

        var mappings = ProcessMemoryMap.Parse(lines);
        Assert.That(mappings.Select(m => m.ToString()), Is.EqualTo(new[]
        {
            "5559b15dc000-5559b15de000 r--p /usr/bin/cat",
            "7f0000000000-7f0000010000 r-xs /memfd:hcrlab-jump-table (deleted)",
            "7f8c3ee38000-7f8c3ee5e000 r--p /usr/lib/x86_64-linux-gnu/libc.so.6",
            "7f8c3f00d000-7f8c3f01a000 rw-p ",
        }));
    }

    [Test]
    public void FreeBlocksAreOfferedNearestTheAnchorFirst()
    {
        // Mapped: [0x10000, 0x20000), anchor [0x50000, 0x60000), [0x70000, 0x71000). Gaps: [0x1000, 0x10000),
        // [0x20000, 0x50000), [0x60000, 0x70000), [0x71000, 0x100000) within the window [0x1000, 0x100000).
        var mappings = ProcessMemoryMap.Parse(
        [
            "10000-20000 r--p 0 0:0 0 a",
            "50000-60000 r-xp 0 0:0 0 anchor",
            "70000-71000 rw-p 0 0:0 0 b",
        ]);

        var blocks = ProcessMemoryMap.FreeBlocksNear(mappings, anchor: 0x50000, length: 0x8000, low: 0x1000, high: 0x100000, alignment: 0x1000);
        Assert.That(blocks.Select(b => $"{b:x}"), Is.EqualTo(new[] { "48000", "60000", "71000", "8000" }));
    }
}
