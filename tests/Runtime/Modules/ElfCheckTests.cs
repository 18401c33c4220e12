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
    /// <summary>
    /// Folders of shared libraries built for each CPU: the system's own, and the sysroot of Debian's aarch64 cross
    /// packages (build.sh test installs them). e_machine and the relocation types are the ABI documents' (EM_X86_64 62,
    /// R_X86_64_RELATIVE 8; EM_AARCH64 183, R_AARCH64_RELATIVE 1027), written here, not read from the runtime.
    /// </summary>
    private static readonly object[] SystemLibraryFolders =
    [
        new object[] { "/usr/lib/x86_64-linux-gnu", "x64", (ushort)62, 8u },
        new object[] { "/usr/aarch64-linux-gnu/lib", "arm64", (ushort)183, 1027u },
    ];

    [TestCaseSource(nameof(SystemLibraryFolders))]
    public void EverySharedLibraryOfACpuPassesWithThatCpusFactsAndNoOthers(string folder, string cpuName, ushort machine, uint relative)
    {
        if (!Directory.Exists(folder))
        {
            Assert.Ignore($"{folder} does not exist");
        }

        var cpu = cpuName == "x64" ? HostCpu.X64 : HostCpu.Arm64;
        var other = cpu == HostCpu.X64 ? HostCpu.Arm64 : HostCpu.X64;
        var checkedLibraries = new List<string>();
        var refused = new List<string>();
        var wrongCpuAccepted = new List<string>();
        int withRelativeRelocations = 0;
        foreach (string path in Directory.EnumerateFiles(folder, "*.so*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null || info.Length is < 64 or > 16 << 20)
            {
                continue;
            }

            byte[] bytes = File.ReadAllBytes(path);
            bool shared = bytes is [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, ..] && bytes[16] == 3 && BitConverter.ToUInt16(bytes, 18) == machine;
            if (!shared)
            {
                continue;
            }

            checkedLibraries.Add(path);
            if (ElfCheck.Problem(bytes, cpu) is { } problem)
            {
                refused.Add($"{path}: {problem}");
            }

            if (ElfCheck.Problem(bytes, other) != $"ELF machine {machine} is not {other.Name} ({other.ElfMachine})")
            {
                wrongCpuAccepted.Add(path);
            }

            // A library whose DT_RELACOUNT is above 0 passes only if the check knows this CPU's RELATIVE type.
            if (DynamicEntries(bytes).GetValueOrDefault(0x6ffffff9) > 0 && FirstRelocationType(bytes) == relative)
            {
                withRelativeRelocations++;
            }
        }

        TestContext.Out.WriteLine($"{checkedLibraries.Count} {cpu.Name} libraries checked, {withRelativeRelocations} with RELATIVE relocations, {refused.Count} refused");
        Assert.That(checkedLibraries, Has.Count.GreaterThan(10));
        Assert.That(withRelativeRelocations, Is.GreaterThan(5));
        Assert.That(refused, Is.Empty);
        Assert.That(wrongCpuAccepted, Is.Empty);
    }

    [Test]
    public void TheHostsCheckIsTheCheckForTheHostsCpu()
    {
        // This machine is x86-64 (the runtime runs nowhere else yet): the one-argument check is the x86-64 one.
        Assume.That(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture, Is.EqualTo(System.Runtime.InteropServices.Architecture.X64));
        byte[] header = new byte[64];
        header[0] = 0x7F; header[1] = (byte)'E'; header[2] = (byte)'L'; header[3] = (byte)'F';
        header[4] = 2; header[5] = 1; header[6] = 1; header[16] = 3; header[18] = 183;
        Assert.That(ElfCheck.Problem(header), Is.EqualTo("ELF machine 183 is not x86-64 (62)"));
        Assert.That(HostCpu.Current, Is.SameAs(HostCpu.X64));
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

    /// <summary>The type of DT_RELA's first entry (ELF64 RELA: offset, info, addend; the type is info's low 32 bits).</summary>
    private static uint FirstRelocationType(byte[] elf) =>
        BitConverter.ToUInt32(elf, (int)FileOffset(elf, DynamicEntries(elf)[7]) + 8);

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
