using HcrLab.Tests.Native;

namespace HcrLab.Tests.Arm64;

/// <summary>
/// The runtime itself on arm64: libhcrlab.so cross-published for linux-arm64 (NativeAOT), with C hosts and modules
/// cross-compiled, run under qemu-aarch64 (natively on an arm64 machine). The C example must print, line by line, what
/// the x86-64 build prints — the same transcript, derived in <see cref="NativeLibraryTests.ExpectedExampleLines"/> — and
/// a slot must reach near targets with its own <c>B</c> and far ones through the literal form, re-pointed both ways.
/// </summary>
[TestFixture]
[Category("Arm64")]
[NonParallelizable]
public sealed class Arm64NativeTests
{
    private static readonly TimeSpan BuildDeadline = TimeSpan.FromMinutes(8);

    private Arm64Toolchain _toolchain = null!;
    private string _output = null!;

    [OneTimeSetUp]
    public void Publish()
    {
        _toolchain = Arm64Toolchain.Require();
        _output = Path.Combine(_toolchain.Directory, "native");
        var example = BuildScript(["example", "--rid", "linux-arm64", _output]);
        Assert.That(example.ExitCode, Is.Zero, $"native/build.sh example --rid linux-arm64 failed:\n{example.Error}");
    }

    [OneTimeTearDown]
    public void RemoveBuilds() => _toolchain?.Dispose();

    [Test]
    public void TheCExampleRunsUnderQemuAndPrintsWhatTheX64BuildPrints()
    {
        var arm64 = BuildScript(["run", "--rid", "linux-arm64", _output]);
        string arm64Example = Path.Combine(_output, "example");
        Assert.That((arm64.ExitCode, NativeToolchain.Lines(arm64.Output)), Is.EqualTo((0, NativeLibraryTests.ExpectedExampleLines(arm64Example))), arm64.Error);

        // And against the x86-64 build's own run, its example folder's path put in place of the arm64 one.
        NativeToolchain.BuildExample();
        var x64 = NativeToolchain.Run(Path.Combine(NativeToolchain.ExampleDirectory, "host"), [], NativeToolchain.ExampleDirectory, BuildDeadline,
            new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = NativeToolchain.LibraryDirectory });
        string[] x64Lines = [.. NativeToolchain.Lines(x64.Output).Select(line => line.Replace(NativeToolchain.ExampleDirectory, arm64Example, StringComparison.Ordinal))];
        Assert.That(NativeToolchain.Lines(arm64.Output), Is.EqualTo(x64Lines));
    }

    [Test]
    public void ASlotReachesNearTargetsWithItsBAndFarOnesThroughItsLiteralUnderQemu()
    {
        string lib = Path.Combine(_output, "lib");
        string program = _toolchain.Compile("slot-forms", Arm64Toolchain.Source("tests", "Arm64", "programs", "slot-forms.c"),
            "-I", Arm64Toolchain.Source("native", "include"), "-L", lib, "-lhcrlab", $"-Wl,-rpath,{lib}");

        var result = _toolchain.Run(program);

        // Each call returns the number of the target just registered: a stale translation of the slot (qemu-user's, see
        // runtime/Cpu/Arm64/hcrcode.c) would return the previous one.
        Assert.That(result.Output.ReplaceLineEndings("\n"), Is.EqualTo("""
            near: B to the target, call returns 1
            far: B to LDR x16 / BR x16 with the target as literal, call returns 2
            near again: B to the target, call returns 3
            far again: B to LDR x16 / BR x16 with the target as literal, call returns 4

            """), result.Error);
        Assert.That(result.ExitCode, Is.Zero);
    }

    [Test]
    public void ACallThroughARemovedProcsSlotRunsTheArm64BadCallThunkAndAnswersZero()
    {
        string lib = Path.Combine(_output, "lib");
        string module = Arm64Toolchain.Source("tests", "Arm64", "programs", "bad-call-module.c");
        string include = Arm64Toolchain.Source("native", "include");
        for (int version = 1; version <= 2; version++)
        {
            _toolchain.Compile($"badcall_v{version}.so", "-shared", "-fPIC", $"-DVERSION={version}", "-I", include, module);
        }

        string program = _toolchain.Compile("bad-call", Arm64Toolchain.Source("tests", "Arm64", "programs", "bad-call.c"),
            "-I", include, "-L", lib, "-lhcrlab", $"-Wl,-rpath,{lib}");

        var result = _toolchain.Run(program);

        // v1's gone returns 7; v2 has no gone, so its slot is released to its thunk: each call is reported (the thunk
        // passed the table and slot 0, the module's first proc) and answers 0, while stay moves on to v2's code.
        Assert.That(result.Output.ReplaceLineEndings("\n"), Is.EqualTo("""
            before: gone() = 7, stay() = 1
            reloaded yes: gone() = 0, stay() = 2
            again: gone() = 0

            """), result.Error);
        string report = System.Text.RegularExpressions.Regex.Replace(result.Error.ReplaceLineEndings("\n"), "0x[0-9a-f]+", "ADDRESS");
        const string Line = "hcr: bad call: proc 'gone' of module 'badcall' was removed (slot 0 at ADDRESS); the call returns 0\n";
        Assert.That(report, Is.EqualTo(Line + Line));
        Assert.That(result.ExitCode, Is.Zero);
    }

    private static ProcessResult BuildScript(string[] arguments) =>
        NativeToolchain.Run(Path.Combine(NativeToolchain.RepositoryRoot, "native", "build.sh"), arguments, NativeToolchain.RepositoryRoot, BuildDeadline);
}
