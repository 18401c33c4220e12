using System.Text;

namespace HcrLab.Runtime;

/// <summary>
/// One output stream of a child process, read as it comes and capped: only the last <see cref="Limit"/> bytes are kept.
/// Reading stops at end of file or when the token given is cancelled, whichever comes first, so a process the child
/// left behind holding the pipe open (in a session of its own, out of reach of a group kill) cannot hold the reader.
/// </summary>
internal sealed class ChildOutput
{
    /// <summary>The most bytes kept: the end of what was written, where a child's last words are.</summary>
    public const int Limit = 64 * 1024;

    private readonly byte[] _tail = new byte[Limit];
    private readonly Lock _lock = new();
    private long _total;

    /// <summary>Starts reading <paramref name="stream"/> until its end or until <paramref name="stop"/> is cancelled.</summary>
    public ChildOutput(Stream stream, CancellationToken stop) => Completion = ReadAsync(stream, stop);

    /// <summary>Completes at end of file, or when reading stopped.</summary>
    public Task Completion { get; }

    /// <summary>What was read so far, as UTF-8; when more than <see cref="Limit"/> bytes came, a first line says how many were dropped.</summary>
    public string Text()
    {
        lock (_lock)
        {
            if (_total <= Limit)
            {
                return Encoding.UTF8.GetString(_tail, 0, (int)_total);
            }

            int start = (int)(_total % Limit);
            byte[] ordered = [.. _tail.AsSpan(start), .. _tail.AsSpan(0, start)];
            return $"(output truncated: the first {_total - Limit} bytes dropped)\n{Encoding.UTF8.GetString(ordered)}";
        }
    }

    private async Task ReadAsync(Stream stream, CancellationToken stop)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, stop).ConfigureAwait(false)) > 0)
            {
                Append(buffer.AsSpan(0, read));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Stopped at the deadline, or the stream went away: what was read is what there is.
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            // Only the last Limit bytes of a long chunk can survive; the ring keeps them in order from _total % Limit.
            ReadOnlySpan<byte> kept = bytes.Length > Limit ? bytes[^Limit..] : bytes;
            long skipped = bytes.Length - kept.Length;
            int at = (int)((_total + skipped) % Limit);
            int first = Math.Min(kept.Length, Limit - at);
            kept[..first].CopyTo(_tail.AsSpan(at));
            kept[first..].CopyTo(_tail);
            _total += bytes.Length;
        }
    }
}
