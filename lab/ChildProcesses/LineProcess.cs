using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using HcrLab.Scenarios;

namespace HcrLab.Lab.ChildProcesses;

/// <summary>
/// A child process the lab talks to in lines (an external encoder, the host-CPU helper). It runs in a process group of
/// its own (started through <c>setsid</c>, which execs in place: a child of .NET is never a group leader already), so
/// one <c>kill(-pid)</c> ends it with everything it started. Lines are read by background threads and bounded, so a
/// child that babbles or hangs costs the lab neither memory nor a blocked thread. Not thread-safe.
/// </summary>
public sealed class LineProcess : IDisposable
{
    /// <summary>Longest line read; a longer one arrives as <see cref="OverlongLine"/>, never held in memory whole.</summary>
    public const int MaxLineChars = 4096;

    /// <summary>What <see cref="TryReadLine"/> gives for a line longer than <see cref="MaxLineChars"/>.</summary>
    public const string OverlongLine = "\0overlong";

    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly BlockingCollection<string?> _lines = new();
    private Process? _process;

    /// <exception cref="Win32Exception">The program cannot be started.</exception>
    public LineProcess(string program, IReadOnlyList<string> arguments)
    {
        var process = ChildProcess.StartInOwnGroup(program, arguments, start =>
        {
            start.RedirectStandardInput = true;
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            start.StandardInputEncoding = new UTF8Encoding(false);
        });
        _process = process;
        var lines = _lines;
        new Thread(() => ReadLines(process.StandardOutput, line => lines.Add(line), () => lines.Add(null))) { IsBackground = true, Name = "child stdout" }.Start();
        new Thread(() => ReadLines(process.StandardError, Remember, () => { })) { IsBackground = true, Name = "child stderr" }.Start();
    }

    /// <summary>The last few lines the child wrote on standard error (since <see cref="ForgetErrors"/>).</summary>
    public string? RecentErrors => _stderr.IsEmpty ? null : string.Join(" / ", _stderr);

    public void ForgetErrors()
    {
        while (_stderr.TryDequeue(out _))
        {
        }
    }

    /// <summary>False when the child's input is closed (it ended).</summary>
    public bool TryWriteLine(string line)
    {
        try
        {
            _process!.StandardInput.Write(line + "\n");
            _process.StandardInput.Flush();
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NullReferenceException)
        {
            return false;
        }
    }

    /// <summary>
    /// The next line, or null when the child closed its output; false when none came within <paramref name="deadline"/>,
    /// in which case the child's process group has been killed.
    /// </summary>
    public bool TryReadLine(TimeSpan deadline, out string? line)
    {
        if (_lines.TryTake(out line, deadline))
        {
            return true;
        }

        Stop(deadline);
        return false;
    }

    /// <summary>Waits briefly for the child to end and says how it ended; then kills what is left of its group.</summary>
    public string DescribeEnd(TimeSpan deadline)
    {
        string how = "it closed its output";
        if (_process is { } process && process.WaitForExit(deadline))
        {
            how = process.ExitCode > 128 ? $"it was killed by signal {process.ExitCode - 128}" : $"it exited with code {process.ExitCode}";
        }

        Stop(deadline);
        return how;
    }

    public void Dispose() => Stop(TimeSpan.FromSeconds(5));

    /// <summary>Kills the child's whole process group and waits for the child itself.</summary>
    private void Stop(TimeSpan deadline)
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        try
        {
            if (!process.HasExited)
            {
                ChildProcess.KillGroup(process);
            }

            process.WaitForExit(deadline);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private void Remember(string? line)
    {
        if (line is null || line == OverlongLine)
        {
            return;
        }

        _stderr.Enqueue(line.Length <= 200 ? line : line[..200] + "...");
        while (_stderr.Count > 8 && _stderr.TryDequeue(out _))
        {
        }
    }

    private static void ReadLines(StreamReader reader, Action<string?> line, Action atEnd)
    {
        try
        {
            foreach (var read in BoundedLines.Read(reader, MaxLineChars, unterminatedLastLine: false))
            {
                line(read.Overlong ? OverlongLine : read.Text);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process was killed under the reader.
        }

        atEnd();
    }
}
