using System.Diagnostics;
using System.Text;

namespace HcrLab.Tests.Native;

/// <summary>
/// The native library and what the native tests build with it: <c>native/build.sh</c> publishes (once; a current copy
/// under the test output is reused), builds the C example, and prepares Nim's runtime next to HcrLab's.
/// </summary>
internal static class NativeToolchain
{
    /// <summary>Exit code of <c>native/build.sh nim</c> when Nim is not there and cannot be installed.</summary>
    private const int NimUnavailable = 3;

    private static readonly Lock BuildLock = new();
    private static string? s_nimUnavailable;
    private static bool s_nimChecked;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Where build.sh puts the library, the example and Nim's runtime: under this test build's output.</summary>
    public static string Output { get; } = Path.Combine(TestContext.CurrentContext.TestDirectory, "native");

    public static string LibraryDirectory => Path.Combine(Output, "lib");

    public static string ExampleDirectory => Path.Combine(Output, "example");

    /// <summary>Holds Nim's own libnimhcr.so and libnimrtl.so.</summary>
    public static string NimReferenceDirectory => Path.Combine(Output, "nim", "reference");

    /// <summary>Holds libnimhcr.so (HcrLab's library) and Nim's libnimrtl.so.</summary>
    public static string NimOnHcrLabDirectory => Path.Combine(Output, "nim", "hcrlab");

    public static string NimSources => Path.Combine(RepositoryRoot, "tests", "Native", "nim");

    /// <summary>Publishes if needed and builds the C example.</summary>
    public static void BuildExample()
    {
        RequireLinuxWithGcc();
        lock (BuildLock)
        {
            var result = Run(Path.Combine(RepositoryRoot, "native", "build.sh"), ["example", Output], RepositoryRoot, TimeSpan.FromMinutes(5));
            Assert.That(result.ExitCode, Is.Zero, $"native/build.sh example failed:\n{result.Error}");
        }
    }

    /// <summary>
    /// <c>native/build.sh install PREFIX</c>, publishing into <see cref="Output"/> if needed: the library as a C user
    /// installs it (PREFIX/lib, PREFIX/include, PREFIX/lib/pkgconfig/hcrlab.pc).
    /// </summary>
    public static void Install(string prefix)
    {
        RequireLinuxWithGcc();
        lock (BuildLock)
        {
            var result = Run(Path.Combine(RepositoryRoot, "native", "build.sh"), ["install", prefix, Output], RepositoryRoot, TimeSpan.FromMinutes(5));
            Assert.That(result.ExitCode, Is.Zero, $"native/build.sh install failed:\n{result.Error}");
        }
    }

    /// <summary>Prepares both runtimes for Nim programs, or ignores the test with the reason Nim 1.6 is not usable.</summary>
    public static void RequireNim()
    {
        RequireLinuxWithGcc();
        lock (BuildLock)
        {
            if (!s_nimChecked)
            {
                s_nimChecked = true;
                var result = Run(Path.Combine(RepositoryRoot, "native", "build.sh"), ["nim", Output], RepositoryRoot, TimeSpan.FromMinutes(10));
                if (result.ExitCode == NimUnavailable)
                {
                    s_nimUnavailable = $"Nim is unavailable: {result.Error.Trim()}";
                }
                else
                {
                    Assert.That(result.ExitCode, Is.Zero, $"native/build.sh nim failed:\n{result.Error}");
                    string version = Run("nim", ["--version"], RepositoryRoot, TimeSpan.FromSeconds(30)).Output;
                    if (!version.Contains("Version 1.6.", StringComparison.Ordinal))
                    {
                        s_nimUnavailable = $"these tests pin Nim 1.6's ABI (strings and closures as 1.6 passes them); found: {version.Split('\n')[0]}";
                    }
                }
            }
        }

        if (s_nimUnavailable is not null)
        {
            Assert.Ignore(s_nimUnavailable);
        }
    }

    public static ProcessResult Run(string program, IEnumerable<string> arguments, string directory, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(program, arguments, directory, environment);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s");
        }

        process.WaitForExit();
        return new ProcessResult(process.ExitCode, output.Result, error.Result);
    }

    public static Process Start(string program, IEnumerable<string> arguments, string directory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
    }

    /// <summary>Lines of a program's output, without the trailing empty line.</summary>
    public static string[] Lines(string text) => text.Replace("\r", "", StringComparison.Ordinal).TrimEnd('\n').Split('\n');

    private static void RequireLinuxWithGcc()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Ignore("the native library is linux-x64 only");
        }

        if (!File.Exists("/usr/bin/gcc"))
        {
            Assert.Ignore("gcc is not installed; NativeAOT links with it and the examples are C");
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "HcrLab.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"HcrLab.sln was not found above {TestContext.CurrentContext.TestDirectory}");
    }
}

internal sealed record ProcessResult(int ExitCode, string Output, string Error);
