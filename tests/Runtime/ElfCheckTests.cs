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
}
