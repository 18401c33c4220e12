using System.Diagnostics;

namespace HcrLab.Runtime;

/// <summary>
/// One run of <c>hcrtrial</c> (<c>guard/hcrtrial.c</c>, beside the guard's library) for the trials of
/// <see cref="ModuleTrial"/>: its exit status, what it wrote, and what an exit status says about the module code it ran.
/// </summary>
internal sealed record TrialProcess(int? ExitCode, string Output, string Error)
{
    /// <summary>How long a trial may take before its modules are refused as code that does not return.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private const string VerdictMark = "hcrtrial: verdict ";

    private static readonly Lazy<string> Program =
        new(() => System.IO.Path.Combine(FaultGuard.NativeDirectory() ?? AppContext.BaseDirectory, "hcrtrial"));

    /// <summary>
    /// The environment variable naming a program that runs hcrtrial for the runtime (hcrtrial's path and arguments
    /// follow), like Cargo's target runners: <c>qemu-aarch64</c> when an arm64 host runs under qemu-user on another CPU
    /// without binfmt_misc, where an arm64 child cannot be started directly (the kernel answers ENOEXEC). Unset: hcrtrial
    /// runs itself. qemu-user finds the arm64 loader through <c>QEMU_LD_PREFIX</c>, which the child inherits.
    /// </summary>
    public const string RunnerVariable = "HCRLAB_TRIAL_RUNNER";

    /// <summary>
    /// What hcrtrial said of its own exit (its last line, "hcrtrial: verdict WORD"): passed, left-to-host (dlopen refused a
    /// library, for the host's own dlopen to judge, as the host may provide symbols the child lacks), refused-itself (the
    /// modules' code refused itself, hcrFailInit or a call the runtime refuses, which the host's own start reports),
    /// misaligned-host-call, stack-off, registers-changed; null when the modules' code ended the process before hcrtrial could say anything.
    /// </summary>
    public string? Verdict =>
        Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() is { } last && last.StartsWith(VerdictMark, StringComparison.Ordinal)
            ? last[VerdictMark.Length..]
            : null;

    /// <summary>
    /// True when the trial found nothing that would end the host: it passed, or ended the way hcrtrial itself does for what
    /// the host's own loader or start reports as a typed error (<paramref name="refusedItselfToo"/>: a refusing module too).
    /// </summary>
    public bool Passed(bool refusedItselfToo) => (ExitCode, Verdict) switch
    {
        (0, "passed") or (2, "left-to-host") => true,
        (3, "refused-itself") => refusedItselfToo,
        _ => false,
    };

    /// <summary>
    /// Runs <c>hcrtrial</c> with <paramref name="arguments"/>, <paramref name="input"/> on its standard input, within
    /// <see cref="Timeout"/> for everything: writing the input, the child's exit and reading its output. hcrtrial puts
    /// itself in a process group of its own; at its exit, or at the deadline, that group is killed, so what the modules'
    /// code started in it goes too and releases the output pipes. A process that left the group (<c>setsid</c>) may
    /// still hold them: reading stops at the deadline and keeps what came (the last <see cref="ChildOutput.Limit"/> bytes of each).
    /// </summary>
    /// <exception cref="InvalidOperationException">hcrtrial is missing or cannot be started.</exception>
    public static TrialProcess Run(IEnumerable<string> arguments, byte[]? input = null)
    {
        string program = Program.Value;
        if (!File.Exists(program))
        {
            throw new InvalidOperationException($"the trial program {program} is missing (it is built with the runtime, next to libhcrguard)");
        }

        string? runner = Environment.GetEnvironmentVariable(RunnerVariable) is { Length: > 0 } named ? named : null;
        var start = new ProcessStartInfo(runner ?? program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (string argument in runner is null ? arguments : [program, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(Timeout);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} could not be started");
        var output = new ChildOutput(process.StandardOutput.BaseStream, deadline.Token);
        var error = new ChildOutput(process.StandardError.BaseStream, deadline.Token);
        Task writing = input is null ? Task.CompletedTask : WriteAsync(process.StandardInput.BaseStream, input, deadline.Token);

        bool exited = Exited(process, deadline.Token);
        KillGroup(process);
        if (!exited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited just now.
            }

            process.WaitForExit();
        }

        // After the exit the pipes end as soon as nothing holds them; one held from outside the group ends at the deadline,
        // when the reads are cancelled. A write to a stdin held from outside and never read may not heed cancellation:
        // it is left behind (disposing the process closes its end) after a second's grace.
        Task.WhenAll(output.Completion, error.Completion, writing).Wait(Remaining(clock) + TimeSpan.FromSeconds(1));
        return new TrialProcess(exited ? process.ExitCode : null, output.Text(), error.Text());
    }

    /// <summary>
    /// Kills hcrtrial's process group (its pid: it calls setpgid(0, 0) first thing). After the child's exit the group
    /// lives on only while something the modules started is in it, and while it lives its id cannot be handed out again;
    /// ESRCH (nothing left) is the usual answer.
    /// </summary>
    private static void KillGroup(Process process) => _ = Native.Kill(-process.Id, Native.Sigkill);

    private static TimeSpan Remaining(Stopwatch clock) => Timeout > clock.Elapsed ? Timeout - clock.Elapsed : TimeSpan.Zero;

    private static bool Exited(Process process, CancellationToken deadline)
    {
        try
        {
            process.WaitForExitAsync(deadline).GetAwaiter().GetResult();
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task WriteAsync(Stream input, byte[] bytes, CancellationToken stop)
    {
        try
        {
            await input.WriteAsync(bytes, stop).ConfigureAwait(false);
            input.Close();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The child ended, or stopped reading, before it read everything (its exit status says why).
        }
    }

    /// <summary>The child was ended by a signal (the exit status the shell reports for one: 128 + its number).</summary>
    public bool DiedOfSignal => ExitCode is > 128 and < 160;

    /// <summary>What the trial's modules did to its process, for an exit that is theirs (not 0, 2 or 3): "died of SIGSEGV".</summary>
    public string Ending => ExitCode switch
    {
        null => $"did not finish within {Timeout.TotalSeconds:0} s (code that does not return)",
        int code when DiedOfSignal => $"died of {ModuleFault.SignalName(code - 128)}",
        127 => "made the dynamic loader give up (exit 127)",
        4 when Verdict == "misaligned-host-call" => "saw module code call a host proc with a misaligned stack",
        5 when Verdict == "stack-off" => "saw module code return with its stack pointer off",
        6 when Verdict == "registers-changed" => "saw module code return with a callee-saved register changed",
        int code => $"ended with exit status {code}",
    };

    /// <summary>" (it said: ...)": the child's standard error in one line, or nothing.</summary>
    public string Said => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } lines
        ? $" (it said: {string.Join(" ", lines)})"
        : "";
}
