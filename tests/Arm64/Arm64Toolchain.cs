using System.Diagnostics;
using HcrLab.Scenarios;
using HcrLab.Tests.Native;

namespace HcrLab.Tests.Arm64;

/// <summary>
/// Builds small aarch64 programs with the cross compiler and runs them under qemu-aarch64 (the arm64 C halves, proven
/// from this x86-64 machine). build.sh installs both (gcc-aarch64-linux-gnu, qemu-user); without them the Arm64 tests
/// are ignored with the install command. On an arm64 host the same programs build with gcc and run natively.
/// </summary>
internal sealed class Arm64Toolchain : IDisposable
{
    /// <summary>Where Debian's cross packages put the aarch64 loader and libraries (qemu-aarch64 -L).</summary>
    private const string Sysroot = "/usr/aarch64-linux-gnu";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly string _compiler;
    private readonly string? _qemu;

    private Arm64Toolchain(string compiler, string? qemu)
    {
        _compiler = compiler;
        _qemu = qemu;
        // Per test run, owner-only (mkdtemp): nothing here comes from a shared place.
        Directory = System.IO.Directory.CreateTempSubdirectory("hcrlab-arm64-").FullName;
    }

    /// <summary>The private folder the programs are built in.</summary>
    public string Directory { get; }

    /// <summary>Where the runtime's project put its arm64 C halves (libhcrguard.a, hcrtrial) in this test output.</summary>
    public static string GuardOutput => Path.Combine(TestContext.CurrentContext.TestDirectory, "linux-arm64");

    /// <summary>The toolchain, or the test ignored with what to install.</summary>
    public static Arm64Toolchain Require()
    {
        bool native = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64;
        string? compiler = ModuleBuilder.FindOnPath(native ? "gcc" : "aarch64-linux-gnu-gcc");
        string? qemu = native ? null : ModuleBuilder.FindOnPath("qemu-aarch64");
        if (!OperatingSystem.IsLinux() || compiler is null || (!native && qemu is null))
        {
            Assert.Ignore("the Arm64 tests need aarch64-linux-gnu-gcc and qemu-aarch64: apt-get install gcc-aarch64-linux-gnu qemu-user (build.sh does)");
        }

        if (!File.Exists(Path.Combine(GuardOutput, "hcrtrial")))
        {
            Assert.Fail($"the runtime's arm64 C halves are missing from {GuardOutput}: rebuild with the cross compiler installed");
        }

        return new Arm64Toolchain(compiler!, qemu);
    }

    /// <summary>Path of a file under the repository.</summary>
    public static string Source(params string[] parts) => Path.Combine([NativeToolchain.RepositoryRoot, .. parts]);

    /// <summary>Compiles to Directory/<paramref name="output"/> (with the arguments given) and returns its path.</summary>
    public string Compile(string output, params string[] arguments)
    {
        string path = Path.Combine(Directory, output);
        var result = NativeToolchain.Run(_compiler, ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", path, .. arguments], Directory, Deadline);
        Assert.That(result.ExitCode, Is.Zero, $"{_compiler} failed:\n{result.Error}");
        return path;
    }

    /// <summary>Runs an aarch64 program (under qemu-aarch64 on another CPU) to its end or its deadline.</summary>
    public ProcessResult Run(string program, params string[] arguments) => RunWithInput([], program, arguments);

    /// <summary>The same, with <paramref name="input"/> on its standard input.</summary>
    public ProcessResult RunWithInput(byte[] input, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(_qemu ?? program)
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in _qemu is null ? arguments : ["-L", Sysroot, program, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.BaseStream.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(Deadline))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish within {Deadline.TotalSeconds} s");
        }

        process.WaitForExit();
        return new ProcessResult(process.ExitCode, output.Result, error.Result);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
