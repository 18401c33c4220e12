using System.Diagnostics;

namespace HcrLab.Tests.Reliability;

/// <summary>How a child run of the test assembly ended: its exit code (128 + the signal when a signal killed it) and its output.</summary>
internal sealed record ChildResult(int ExitCode, string Output, string Error, bool TimedOut)
{
    public string[] OutputLines => Output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>SIGSEGV (11), SIGBUS (7), SIGILL (4), SIGFPE (8) or SIGABRT (6) ended it.</summary>
    public bool Crashed => !TimedOut && ExitCode is 128 + 11 or 128 + 7 or 128 + 4 or 128 + 8 or 128 + 6 or 134 or 139;

    public override string ToString() => $"exit {ExitCode}{(TimedOut ? " (timed out, killed)" : "")}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs this test assembly as a program (<see cref="ReliabilityMain"/>) in a process of its own.</summary>
internal static class ChildProcess
{
    public static ChildResult Run(TimeSpan timeout, params string[] arguments)
    {
        // The dotnet CLI tells the processes it starts where its host is; fall back on the one on PATH.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A crashing child must not leave a core dump behind, nor spend seconds writing a .NET crash report.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(timeout);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        return new ChildResult(process.ExitCode, output.Result, error.Result, !exited);
    }
}
