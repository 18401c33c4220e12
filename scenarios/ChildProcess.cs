using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace HcrLab.Scenarios;

/// <summary>
/// Runs a program the tools do not trust to end (gcc on any source, a scenario host running any module) with a deadline
/// that holds. The child runs in a process group of its own (started through <c>setsid</c>, which execs in place: a
/// child of .NET is never a group leader already), so one <c>kill(-pid)</c> ends it with everything it started; its
/// output is read by background threads into bounded buffers, and waiting for those readers stops at the deadline too,
/// so a grandchild that left the group (<c>setsid sleep 100000 &amp;</c>) and keeps the pipe open costs no more than
/// the time limit.
/// </summary>
public static partial class ChildProcess
{
    /// <summary>How long the output may stay open after the child ended before what was read is taken as all of it.</summary>
    public static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(2);

    private const int SigKill = 9;

    /// <summary>
    /// Starts <paramref name="program"/> in a process group of its own, through <c>setsid</c>; <paramref name="configure"/>
    /// sets redirections, encodings and the environment.
    /// </summary>
    /// <exception cref="Win32Exception">setsid cannot be started.</exception>
    public static Process StartInOwnGroup(string program, IEnumerable<string> arguments, Action<ProcessStartInfo> configure)
    {
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        configure(start);
        return Process.Start(start) ?? throw new Win32Exception($"cannot start {program}");
    }

    /// <summary>Kills the child's whole process group, and the child itself should it have left it.</summary>
    public static void KillGroup(Process process)
    {
        try
        {
            _ = Kill(-process.Id, SigKill);
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// Runs <paramref name="program"/> to its end or until <paramref name="timeout"/>, whichever comes first; then its
    /// process group is killed (whatever the child left running dies with it). Standard input gets
    /// <paramref name="input"/> and is closed; <paramref name="environment"/> is added to this process's. Of each of
    /// standard output and standard error, <paramref name="maxOutputChars"/> characters are kept; the rest is read and
    /// dropped.
    /// </summary>
    /// <exception cref="Win32Exception">setsid cannot be started.</exception>
    public static ChildOutcome Run(string program, IEnumerable<string> arguments, TimeSpan timeout, string input = "",
        int maxOutputChars = 16 << 20, IReadOnlyDictionary<string, string>? environment = null)
    {
        var clock = Stopwatch.StartNew();
        using var process = StartInOwnGroup(program, arguments, start =>
        {
            start.RedirectStandardInput = true;
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            start.StandardOutputEncoding = Encoding.UTF8;
            start.StandardErrorEncoding = Encoding.UTF8;
            start.StandardInputEncoding = new UTF8Encoding(false);
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            {
                start.Environment[name] = value;
            }
        });
        var output = new BoundedReader(process.StandardOutput, maxOutputChars, "child stdout");
        var error = new BoundedReader(process.StandardError, maxOutputChars, "child stderr");
        try
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child ended or closed its input without reading it; what it did is in its output.
        }

        bool exited = process.WaitForExit(timeout);
        KillGroup(process);
        if (!exited)
        {
            process.WaitForExit(TimeSpan.FromSeconds(5));
        }

        // After the child ended, its pipes may stay open in a process that left the group: read what is in flight, for a
        // moment, not until every holder lets go.
        bool outputClosed = output.WaitForEnd(OutputGrace) & error.WaitForEnd(TimeSpan.FromMilliseconds(200));
        return new ChildOutcome(
            exited && process.HasExited ? process.ExitCode : null,
            output.Text, error.Text, output.Truncated || error.Truncated, outputClosed, clock.Elapsed);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Reads a stream on a background thread into a buffer of bounded size, to its end or until abandoned.</summary>
    private sealed class BoundedReader
    {
        private readonly StringBuilder _text = new();
        private readonly int _limit;
        private readonly ManualResetEventSlim _ended = new();
        private bool _truncated;

        public BoundedReader(StreamReader reader, int limit, string name)
        {
            _limit = limit;
            new Thread(() => Read(reader)) { IsBackground = true, Name = name }.Start();
        }

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public bool Truncated
        {
            get
            {
                lock (_text)
                {
                    return _truncated;
                }
            }
        }

        public bool WaitForEnd(TimeSpan limit) => _ended.Wait(limit);

        private void Read(StreamReader reader)
        {
            var buffer = new char[8192];
            try
            {
                int read;
                while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
                {
                    lock (_text)
                    {
                        int keep = Math.Min(read, _limit - _text.Length);
                        _text.Append(buffer, 0, keep);
                        _truncated |= keep < read;
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The stream was closed under the reader.
            }

            _ended.Set();
        }
    }
}

/// <summary>How a <see cref="ChildProcess.Run"/> ended.</summary>
/// <param name="ExitCode">The exit code (128 + N for signal N, as .NET reports it); null when the time limit ran out and the child was killed.</param>
/// <param name="StandardOutput">What it wrote, up to the limit.</param>
/// <param name="StandardError">The same for standard error.</param>
/// <param name="Truncated">Output beyond the limit was dropped.</param>
/// <param name="OutputClosed">Both streams reached their end; false when something still held them open and reading stopped.</param>
/// <param name="Elapsed">Wall-clock time of the run.</param>
public sealed record ChildOutcome(int? ExitCode, string StandardOutput, string StandardError, bool Truncated, bool OutputClosed, TimeSpan Elapsed)
{
    public bool TimedOut => ExitCode is null;
}
