using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using HcrLab.Encoders;

namespace HcrLab.Lab.External;

/// <summary>
/// One running external encoder speaking the line protocol (README, "Verifying your own encoder"). It runs in a process
/// group of its own (started through <c>setsid</c>), so a hang or the end of the run kills the encoder with everything
/// it started; after a hang or a crash the next request starts it again. Not thread-safe: one per thread.
/// </summary>
public sealed partial class EncoderProcess : IDisposable
{
    /// <summary>Longest line read from the encoder; a longer one is malformed (and never held in memory whole).</summary>
    public const int MaxLineChars = 4096;

    /// <summary>After this many starts in a row without one good answer in between, the encoder is given up as unusable.</summary>
    public const int MaxRestartsInARow = 5;

    private const int SigKill = 9;
    private const string Overlong = "\0overlong";

    private readonly EncoderCommandLine _command;
    private readonly TimeSpan _deadline;
    private readonly ConcurrentQueue<string> _stderr = new();
    private Process? _process;
    private BlockingCollection<string?> _lines = new();
    private int _restartsInARow;

    /// <param name="command">The encoder's command line.</param>
    /// <param name="deadline">How long the encoder may take for its handshake or one answer.</param>
    /// <exception cref="ExternalEncoderException">It does not start or its handshake is wrong.</exception>
    public EncoderProcess(EncoderCommandLine command, TimeSpan deadline)
    {
        _command = command;
        _deadline = deadline;
        Handshake = Start();
    }

    public EncoderHandshake Handshake { get; private set; }

    /// <summary>Starts the encoder once, reads its handshake and stops it: what the run can ask it.</summary>
    public static EncoderHandshake Probe(EncoderCommandLine command, TimeSpan deadline)
    {
        using var encoder = new EncoderProcess(command, deadline);
        return encoder.Handshake;
    }

    /// <summary>The request line for a case: <c>ARCH MODE AT TARGET</c>.</summary>
    public static string Request(InstructionSet isa, PatchMode mode, ulong slot, ulong target) =>
        string.Create(CultureInfo.InvariantCulture, $"{isa.ShortName()} {mode.ToString().ToLowerInvariant()} 0x{slot:x} 0x{target:x}");

    /// <summary>Sends one request and waits for its answer; a hang or a crash restarts the encoder for the next request.</summary>
    /// <exception cref="ExternalEncoderException">The encoder cannot be restarted.</exception>
    public EncoderAnswer Ask(string request)
    {
        if (_process is null)
        {
            Handshake = Start();
        }

        while (_stderr.TryDequeue(out _))
        {
        }

        try
        {
            _process!.StandardInput.Write(request + "\n");
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            return Crashed();
        }

        if (!_lines.TryTake(out string? line, _deadline))
        {
            Stop();
            return new EncoderAnswer.Hang(_deadline);
        }

        if (line is null)
        {
            return Crashed();
        }

        _restartsInARow = 0;
        string text = line.Trim();
        if (line == Overlong)
        {
            return new EncoderAnswer.Malformed($"a line longer than {MaxLineChars} characters");
        }

        if (text.Length == 0)
        {
            return new EncoderAnswer.Refusal(_stderr.IsEmpty ? null : string.Join(" / ", _stderr));
        }

        if (text.Length % 2 != 0 || !text.All(char.IsAsciiHexDigit))
        {
            return new EncoderAnswer.Malformed($"'{(text.Length <= 80 ? text : text[..80] + "...")}' is not an even number of hex digits");
        }

        return new EncoderAnswer.Bytes(Convert.FromHexString(text));
    }

    public void Dispose() => Stop();

    private EncoderAnswer Crashed()
    {
        string how = "it closed its output";
        if (_process is { } process && process.WaitForExit(_deadline))
        {
            how = process.ExitCode > 128 ? $"it was killed by signal {process.ExitCode - 128}" : $"it exited with code {process.ExitCode}";
        }

        Stop();
        return new EncoderAnswer.Crash(how);
    }

    private EncoderHandshake Start()
    {
        if (++_restartsInARow > MaxRestartsInARow)
        {
            throw new ExternalEncoderException($"the encoder '{_command}' failed {MaxRestartsInARow} times in a row; giving up");
        }

        // setsid makes the encoder the leader of a new process group (it execs in place: a child of .NET is never a group
        // leader already), so one kill(-pid) ends the encoder and everything it started.
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        start.ArgumentList.Add(_command.Program);
        foreach (string argument in _command.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ExternalEncoderException($"cannot start the encoder '{_command}'");
        }
        catch (Win32Exception e)
        {
            throw new ExternalEncoderException($"cannot start the encoder '{_command}': {e.Message} (setsid from util-linux is required)");
        }

        _process = process;
        _lines = new BlockingCollection<string?>();
        var lines = _lines;
        var reader = new Thread(() => ReadLines(process.StandardOutput, line => lines.Add(line), atEnd: () => lines.Add(null)))
        {
            IsBackground = true,
            Name = "encoder stdout",
        };
        reader.Start();
        var errors = new Thread(() => ReadLines(process.StandardError, Remember, atEnd: () => { })) { IsBackground = true, Name = "encoder stderr" };
        errors.Start();

        if (!lines.TryTake(out string? first, _deadline) || first is null)
        {
            string why = first is null && lines.IsAddingCompleted is false && process.HasExited
                ? $"it ended (exit code {process.ExitCode})" : first is null ? "it ended or wrote nothing" : "";
            Stop();
            throw new ExternalEncoderException(
                $"the encoder '{_command}' wrote no handshake line within {_deadline.TotalSeconds:0.#} s ({(why.Length > 0 ? why : "it hung")})"
                + (_stderr.IsEmpty ? "" : $"; its standard error: {string.Join(" / ", _stderr)}"));
        }

        try
        {
            return EncoderHandshake.Parse(first);
        }
        catch (FormatException e)
        {
            Stop();
            throw new ExternalEncoderException($"the encoder '{_command}': {e.Message}");
        }
    }

    private void Remember(string? line)
    {
        if (line is null || line == Overlong)
        {
            return;
        }

        _stderr.Enqueue(line.Length <= 200 ? line : line[..200] + "...");
        while (_stderr.Count > 8 && _stderr.TryDequeue(out _))
        {
        }
    }

    /// <summary>Kills the encoder's whole process group and waits for the encoder itself.</summary>
    private void Stop()
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
                _ = Kill(-process.Id, SigKill);
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(_deadline);
        }
        catch (InvalidOperationException)
        {
            // It was never started or is already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Reads lines of at most <see cref="MaxLineChars"/>; a longer one is reported as <see cref="Overlong"/> and skipped to its end.</summary>
    private static void ReadLines(StreamReader reader, Action<string?> line, Action atEnd)
    {
        var current = new StringBuilder();
        bool overlong = false;
        var buffer = new char[1024];
        try
        {
            int read;
            while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
            {
                for (int i = 0; i < read; i++)
                {
                    char c = buffer[i];
                    if (c == '\n')
                    {
                        line(overlong ? Overlong : current.ToString().TrimEnd('\r'));
                        current.Clear();
                        overlong = false;
                    }
                    else if (!overlong && current.Append(c).Length > MaxLineChars)
                    {
                        overlong = true;
                        current.Clear();
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process was killed under the reader.
        }

        atEnd();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
