using System.ComponentModel;
using System.Globalization;
using HcrLab.Encoders;
using HcrLab.Lab.ChildProcesses;

namespace HcrLab.Lab.External;

/// <summary>
/// One running external encoder speaking the line protocol (README, "Verifying your own encoder"), in a process group
/// of its own (<see cref="LineProcess"/>); after a hang or a crash the next request starts it again. Not thread-safe.
/// </summary>
public sealed class EncoderProcess : IDisposable
{
    /// <summary>After this many starts in a row without one good answer in between, the encoder is given up as unusable.</summary>
    public const int MaxRestartsInARow = 5;

    private readonly EncoderCommandLine _command;
    private readonly TimeSpan _deadline;
    private LineProcess? _process;
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

        var process = _process!;
        process.ForgetErrors();
        if (!process.TryWriteLine(request))
        {
            return Crashed(process);
        }

        if (!process.TryReadLine(_deadline, out string? line))
        {
            _process = null;
            return new EncoderAnswer.Hang(_deadline);
        }

        if (line is null)
        {
            return Crashed(process);
        }

        _restartsInARow = 0;
        string text = line.Trim();
        if (line == LineProcess.OverlongLine)
        {
            return new EncoderAnswer.Malformed($"a line longer than {LineProcess.MaxLineChars} characters");
        }

        if (text.Length == 0)
        {
            return new EncoderAnswer.Refusal(process.RecentErrors);
        }

        return text.Length % 2 != 0 || !text.All(char.IsAsciiHexDigit)
            ? new EncoderAnswer.Malformed($"'{(text.Length <= 80 ? text : text[..80] + "...")}' is not an even number of hex digits")
            : new EncoderAnswer.Bytes(Convert.FromHexString(text));
    }

    public void Dispose()
    {
        _process?.Dispose();
        _process = null;
    }

    private EncoderAnswer.Crash Crashed(LineProcess process)
    {
        _process = null;
        return new EncoderAnswer.Crash(process.DescribeEnd(_deadline));
    }

    private EncoderHandshake Start()
    {
        if (++_restartsInARow > MaxRestartsInARow)
        {
            throw new ExternalEncoderException($"the encoder '{_command}' failed {MaxRestartsInARow} times in a row; giving up");
        }

        LineProcess process;
        try
        {
            process = new LineProcess(_command.Program, _command.Arguments);
        }
        catch (Win32Exception e)
        {
            throw new ExternalEncoderException($"cannot start the encoder '{_command}': {e.Message} (setsid from util-linux is required)");
        }

        if (!process.TryReadLine(_deadline, out string? first) || first is null)
        {
            string why = first is null ? process.DescribeEnd(_deadline) : "it hung";
            string? errors = process.RecentErrors;
            process.Dispose();
            throw new ExternalEncoderException(
                $"the encoder '{_command}' wrote no handshake line within {_deadline.TotalSeconds:0.#} s ({why})"
                + (errors is null ? "" : $"; its standard error: {errors}"));
        }

        try
        {
            var handshake = EncoderHandshake.Parse(first);
            _process = process;
            return handshake;
        }
        catch (FormatException e)
        {
            process.Dispose();
            throw new ExternalEncoderException($"the encoder '{_command}': {e.Message}");
        }
    }
}
