using System.Diagnostics;
using HcrLab.Tests.Native;

namespace HcrLab.Tests.Cli;

/// <summary>
/// <c>./build.sh hcrlab ...</c>: standard output holds only what hcrlab printed. The build's own lines go to standard
/// error, so <c>--format hex|json</c> can be piped. The build step is a stand-in <c>dotnet</c> that prints what
/// <c>dotnet build</c> prints on success (a real build takes minutes on a shared machine); every other dotnet call goes to
/// the real one, which runs the hcrlab this test suite was built with.
/// </summary>
[TestFixture]
[Category("Cli")]
public sealed class BuildScriptTests
{
    [Test]
    public void BuildChatterGoesToStandardErrorAndTheCommandsOutputToStandardOutput()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("build.sh is a bash script for Linux");
            return;
        }

        string realDotnet = FindOnPath("dotnet") ?? throw new InconclusiveException("dotnet is not on PATH");
        string bin = Directory.CreateDirectory(Path.Combine(TestContext.CurrentContext.WorkDirectory, $"fake-dotnet-{Guid.NewGuid():N}")).FullName;
        string fake = Path.Combine(bin, "dotnet");
        File.WriteAllText(fake, """
            #!/bin/sh
            if [ "$1" = build ]; then
              echo "Build succeeded."
              echo "    0 Warning(s)"
              echo "Time Elapsed 00:00:01.00"
              exit 0
            fi
            exec "$HCRLAB_REAL_DOTNET" "$@"
            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var start = new ProcessStartInfo("bash")
            {
                ArgumentList = { "build.sh", "hcrlab", "encode", "--arch", "amd64", "--at", "0x1000", "--target", "0x2000", "--format", "hex" },
                WorkingDirectory = NativeToolchain.RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}";
            start.Environment["HCRLAB_REAL_DOTNET"] = realDotnet;
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();

            // E9 rel32 from 0x1000 to 0x2000: 0x2000 - (0x1000 + 5) = 0xFFB, little-endian fb 0f 00 00.
            Assert.Multiple(() =>
            {
                Assert.That(process.ExitCode, Is.Zero, error.Result);
                Assert.That(output, Is.EqualTo("e9fb0f0000\n"));
                Assert.That(error.Result, Does.Contain("Build succeeded.").And.Contain("Time Elapsed"));
            });
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
