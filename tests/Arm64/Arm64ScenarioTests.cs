using System.Runtime.Versioning;
using HcrLab.Scenarios;
using HcrLab.Tests.Native;

namespace HcrLab.Tests.Arm64;

/// <summary>
/// Every scenario folder on arm64, with the same steps file as on x86-64 (the transcript is CPU-independent): modules
/// built with the arm64 cross compiler, the scenario host (scenarios/Host) cross-published with NativeAOT and run under
/// qemu-aarch64, its hcrtrial children too — what <c>hcrlab scenario run --all --arch arm64</c> does.
/// </summary>
[TestFixture]
[UnsupportedOSPlatform("windows")]
[Category("Arm64")]
[NonParallelizable]
public sealed class Arm64ScenarioTests
{
    private static readonly string Root = ScenarioCatalog.FindRoot()
        ?? throw new InvalidOperationException("no scenarios/ folder with include/hcr.h above the test directory");

    private Arm64Toolchain _toolchain = null!;
    private ScenarioRunner _runner = null!;

    public static IEnumerable<TestCaseData> Folders() =>
        ScenarioCatalog.List(Root).Select(folder => new TestCaseData(folder).SetName($"{Path.GetFileName(folder)}OnArm64"));

    [OneTimeSetUp]
    public void PublishTheHost()
    {
        _toolchain = Arm64Toolchain.Require();
        string output = Path.Combine(_toolchain.Directory, "scenario-host");
        var publish = NativeToolchain.Run(Path.Combine(NativeToolchain.RepositoryRoot, "native", "build.sh"),
            ["scenario-host", "--rid", "linux-arm64", output], NativeToolchain.RepositoryRoot, TimeSpan.FromMinutes(8));
        Assert.That(publish.ExitCode, Is.Zero, $"native/build.sh scenario-host --rid linux-arm64 failed:\n{publish.Error}");
        _runner = new ScenarioRunner(Root, HostCommand.ForTarget(ModuleTarget.Arm64, Path.Combine(output, "hcrlab-scenario-host")))
        {
            Target = ModuleTarget.Arm64,
            Timeout = TimeSpan.FromMinutes(2),
            BuildCache = Path.Combine(_toolchain.Directory, "builds"),
        };
    }

    [OneTimeTearDown]
    public void RemoveBuilds() => _toolchain?.Dispose();

    [TestCaseSource(nameof(Folders))]
    public void ScenarioPassesOnArm64(string folder)
    {
        var result = _runner.Run(folder);

        Assert.That(result.Passed, Is.True, $"{result.Failure}\n{result.Diff}\nstandard error of the host:\n{result.StandardError}");
    }
}
