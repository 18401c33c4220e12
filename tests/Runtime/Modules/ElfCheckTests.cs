using HcrLab.Runtime;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// The check made before dlopen refuses nothing real: every x86-64 shared library of the system passes it, and so does
/// a gcc-built module; what it refuses is covered by the fault and fuzz tests.
/// </summary>
[TestFixture]
[Category("Runtime")]
[NonParallelizable]
public sealed class ElfCheckTests
{
    private const string SystemLibraries = "/usr/lib/x86_64-linux-gnu";

    [Test]
    public void EveryX8664SharedLibraryOfTheSystemPasses()
    {
        if (!Directory.Exists(SystemLibraries))
        {
            Assert.Ignore($"{SystemLibraries} does not exist");
        }

        var checkedLibraries = new List<string>();
        var refused = new List<string>();
        foreach (string path in Directory.EnumerateFiles(SystemLibraries, "*.so*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null || info.Length is < 64 or > 16 << 20)
            {
                continue;
            }

            byte[] bytes = File.ReadAllBytes(path);
            bool sharedX8664 = bytes is [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, ..] && bytes[16] == 3 && bytes[18] == 62;
            if (!sharedX8664)
            {
                continue;
            }

            checkedLibraries.Add(path);
            if (ElfCheck.Problem(bytes) is { } problem)
            {
                refused.Add($"{path}: {problem}");
            }
        }

        TestContext.Out.WriteLine($"{checkedLibraries.Count} system libraries checked, {refused.Count} refused");
        Assert.That(checkedLibraries, Has.Count.GreaterThan(10));
        Assert.That(refused, Is.Empty);
    }

    [Test]
    public void AGccBuiltModulePassesAndItsTruncationsAreRefused()
    {
        ModuleWorkbench.RequireGcc();
        using var bench = new ModuleWorkbench();
        byte[] module = File.ReadAllBytes(bench.Build("a", 1, ModuleReloadTests.Module()));

        Assert.That(ElfCheck.Problem(module), Is.Null);
        Assert.That(ElfCheck.Problem([]), Is.EqualTo("the file is empty"));
        Assert.That(ElfCheck.Problem(module[..63]), Is.EqualTo("the file has 63 bytes, fewer than an ELF header's 64"));
        Assert.That(ElfCheck.Problem(module[..(module.Length / 2)]), Does.Contain("past the end of the file"));
    }

    [Test]
    public void ARelocationCountedAsRelativeThatIsNotIsRefused()
    {
        // glibc's loader would assert ("Inconsistency detected by ld.so") and end the process with exit code 127.
        ModuleWorkbench.RequireGcc();
        using var bench = new ModuleWorkbench();
        byte[] module = File.ReadAllBytes(bench.Build("a", 1, ModuleReloadTests.Module()));
        var dynamic = DynamicEntries(module);
        Assert.That(dynamic.GetValueOrDefault(0x6ffffff9), Is.GreaterThan(1UL), "gcc's module has DT_RELACOUNT");

        int third = (int)FileOffset(module, dynamic[7]) + (2 * 24);   // DT_RELA's third entry
        module[third + 8] = 1;                                         // its type: R_X86_64_64 instead of RELATIVE

        Assert.That(ElfCheck.Problem(module), Is.EqualTo($"relocation 2 has type 1, but DT_RELACOUNT says the first {dynamic[0x6ffffff9]} are RELATIVE (type 8)"));
    }

    [Test]
    public void ADynamicSegmentWhoseAddressIsNotItsFileBytesIsRefused()
    {
        // The loader reads the dynamic section at p_vaddr: with bit 54 flipped it faulted inside dlopen (fuzz file 342).
        ModuleWorkbench.RequireGcc();
        using var bench = new ModuleWorkbench();
        byte[] module = File.ReadAllBytes(bench.Build("a", 1, ModuleReloadTests.Module()));
        int header = ProgramHeaderOffsets(module).Single(at => BitConverter.ToUInt32(module, at) == 2);
        ulong address = BitConverter.ToUInt64(module, header + 16), offset = BitConverter.ToUInt64(module, header + 8);
        module[header + 16 + 6] ^= 0x40;

        Assert.That(ElfCheck.Problem(module), Is.EqualTo(
            $"the dynamic segment's address 0x{address | (1UL << 54):x} is not where a loadable segment maps its file offset 0x{offset:x}"));
    }

    /// <summary>The dynamic section's entries by tag (the last of each), read from PT_DYNAMIC.</summary>
    private static Dictionary<long, ulong> DynamicEntries(byte[] elf)
    {
        var entries = new Dictionary<long, ulong>();
        foreach (var (type, offset, _, size) in ProgramHeaders(elf).Where(h => h.Type == 2))
        {
            for (ulong at = offset; at + 16 <= offset + size; at += 16)
            {
                long tag = BitConverter.ToInt64(elf, (int)at);
                if (tag == 0)
                {
                    break;
                }

                entries[tag] = BitConverter.ToUInt64(elf, (int)at + 8);
            }
        }

        return entries;
    }

    /// <summary>The file offset of a virtual address, through the PT_LOAD segment that holds it.</summary>
    private static ulong FileOffset(byte[] elf, ulong address)
    {
        foreach (var (type, offset, virtualAddress, size) in ProgramHeaders(elf).Where(h => h.Type == 1))
        {
            if (address >= virtualAddress && address < virtualAddress + size)
            {
                return address - virtualAddress + offset;
            }
        }

        throw new InvalidOperationException($"0x{address:x} is in no loadable segment");
    }

    /// <summary>Each program header's type, file offset, virtual address and file size (ELF64).</summary>
    private static IEnumerable<(uint Type, ulong Offset, ulong Address, ulong Size)> ProgramHeaders(byte[] elf) =>
        ProgramHeaderOffsets(elf).Select(at =>
            (BitConverter.ToUInt32(elf, at), BitConverter.ToUInt64(elf, at + 8), BitConverter.ToUInt64(elf, at + 16), BitConverter.ToUInt64(elf, at + 32)));

    /// <summary>Where each program header starts in the file.</summary>
    private static IEnumerable<int> ProgramHeaderOffsets(byte[] elf)
    {
        ulong table = BitConverter.ToUInt64(elf, 0x20);
        int size = BitConverter.ToUInt16(elf, 0x36), count = BitConverter.ToUInt16(elf, 0x38);
        return Enumerable.Range(0, count).Select(i => (int)table + (i * size));
    }
}
