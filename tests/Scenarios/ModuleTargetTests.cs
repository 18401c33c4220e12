using System.Buffers.Binary;
using System.Runtime.InteropServices;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// Scenario modules built for a chosen CPU. The expected ELF machines are the ELF specification's: EM_X86_64 = 62 and
/// EM_AARCH64 = 183, read from e_machine (offset 18, two bytes, little-endian for both CPUs) of the built library.
/// </summary>
[TestFixture]
[Category("Scenarios")]
[Category("Arm64")]
public sealed class ModuleTargetTests
{
    private static readonly string Root = ScenarioCatalog.FindRoot()
        ?? throw new InvalidOperationException("no scenarios/ folder with include/hcr.h above the test directory");

    private DirectoryInfo _scratch = null!;

    [SetUp]
    public void CreateScratch() => _scratch = Directory.CreateTempSubdirectory("hcrlab-target-");

    [TearDown]
    public void RemoveScratch() => _scratch.Delete(recursive: true);

    [TestCase("arm64", 183)]
    [TestCase("x64", 62)]
    public void AScenarioModuleBuiltForATargetCarriesItsElfMachine(string name, int machine)
    {
        var target = ModuleTarget.Parse(name);
        if (ModuleBuilder.FindOnPath(target.Compiler) is null)
        {
            Assert.Ignore($"{target.Compiler} is not installed (apt-get install gcc-aarch64-linux-gnu; build.sh test does)");
        }

        string output = BuildBodyChange(new ModuleBuilder(target));

        Assert.That(ElfMachine(output), Is.EqualTo(machine));
    }

    [Test]
    public void TheDefaultBuilderStillBuildsForThisMachine()
    {
        if (ModuleBuilder.FindCompiler() is null || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Assert.Ignore("checks the x86-64 default: gcc on an x86-64 machine");
        }

        var builder = new ModuleBuilder();

        Assert.That(builder.Compiler, Is.EqualTo(ModuleBuilder.FindOnPath("gcc")));
        Assert.That(ElfMachine(BuildBodyChange(builder)), Is.EqualTo(62));
    }

    [Test]
    public void TheHostTargetIsThisMachinesCpuAndBuildsWithGcc()
    {
        Assert.That(ModuleTarget.Parse("host").Architecture, Is.EqualTo(RuntimeInformation.ProcessArchitecture));
        Assert.That(ModuleTarget.Parse("host").Compiler, Is.EqualTo("gcc"));
    }

    [Test]
    public void AnUnknownTargetIsRefusedWithTheNamesThatExist() =>
        Assert.That(() => ModuleTarget.Parse("sparc"),
            Throws.ArgumentException.With.Message.StartsWith("unknown target CPU 'sparc': expected host, x64, arm64"));

    [Test]
    public void AMissingCrossCompilerNamesItsDebianPackage()
    {
        var target = new ModuleTarget("riscv64", Architecture.RiscV64, "riscv64-nowhere-linux-gnu-gcc", 243, "qemu-riscv64", "/usr/riscv64-linux-gnu", "linux-riscv64");

        Assert.That(() => new ModuleBuilder(target), Throws.TypeOf<CompilerNotFoundException>().With.Message.EqualTo(
            "'riscv64-nowhere-linux-gnu-gcc' is not on PATH: modules are built with the machine's C compiler; install it " +
            "(Debian/Ubuntu: apt-get install gcc-riscv64-nowhere-linux-gnu)"));
    }

    /// <summary>scenarios/body-change/a.v1.c, with the flags the scenario runner passes.</summary>
    private string BuildBodyChange(ModuleBuilder builder)
    {
        string output = Path.Combine(_scratch.FullName, "a.so");
        builder.Build(Path.Combine(Root, "body-change", "a.v1.c"), output,
            ["-I", Path.Combine(Root, "include"), "-DHCR_MODULE=\"a\"", "-DHCR_VERSION=1"]);
        return output;
    }

    /// <summary>e_machine of a 64-bit little-endian ELF file, after checking that it is one.</summary>
    private static int ElfMachine(string path)
    {
        byte[] header = new byte[20];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }

        Assert.That(Convert.ToHexString(header, 0, 6), Is.EqualTo("7F454C460201"), "ELF magic, ELFCLASS64, ELFDATA2LSB");
        return BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18));
    }
}
