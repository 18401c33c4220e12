using System.Diagnostics;

namespace HcrLab.Runtime;

/// <summary>
/// The trial load (<see cref="HcrRuntimeOptions.TrialLoad"/>): before a copy is loaded into the host, <c>hcrtrial</c>
/// (<c>guard/hcrtrial.c</c>, beside the guard's library) loads and unloads it in a child process. Constructors and
/// destructors run inside <c>dlopen</c> and <c>dlclose</c>, where the loader holds its lock and the fault guard must not
/// jump out, and glibc's loader ends the process when a library's tables are inconsistent: in the child, any of these
/// ends only the child, and the load is refused. A library <c>dlopen</c> refuses in the child is left for the host's
/// own <c>dlopen</c> to judge (the host may provide symbols the child lacks). Costs a process start per load.
/// </summary>
internal static class TrialLoad
{
    /// <summary>How long a trial may take before the library is refused as one whose constructors or destructors do not return.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly Lazy<string> Program =
        new(() => System.IO.Path.Combine(FaultGuard.NativeDirectory() ?? AppContext.BaseDirectory, "hcrtrial"));

    /// <summary>Null when the trial passed (or left the judgement to the host's dlopen), else why the library is refused.</summary>
    /// <exception cref="InvalidOperationException">hcrtrial is missing or cannot be started.</exception>
    public static string? Problem(string library)
    {
        string program = Program.Value;
        if (!File.Exists(program))
        {
            throw new InvalidOperationException($"the trial loader {program} is missing (it is built with the runtime, next to libhcrguard)");
        }

        var start = new ProcessStartInfo(program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(library);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill();
            process.WaitForExit();
            return $"a trial load in a child process ({program}) did not finish within {Timeout.TotalSeconds:0} s: a constructor or destructor does not return";
        }

        process.WaitForExit();
        string said = string.Join(" ", (output.Result + error.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        string what = said.Length == 0 ? "" : $" (it said: {said})";
        return process.ExitCode switch
        {
            0 or 2 => null,
            > 128 and < 160 => $"a trial load in a child process died of {ModuleFault.SignalName(process.ExitCode - 128)}{what}: its constructors or destructors fault; it is not loaded into this process",
            127 => $"a trial load in a child process made the dynamic loader give up (exit 127){what}; it is not loaded into this process",
            int code => $"a trial load in a child process ended with exit status {code}{what}; it is not loaded into this process",
        };
    }
}
