namespace HcrLab.Runtime;

/// <summary>
/// Copies bytes from addresses a module's code handed out (its import list, its signature hash) without risking a fault:
/// only bytes in readable memory are copied, and a read stops where readable memory ends.
/// <para>
/// The kernel does the checking: <c>process_vm_readv</c> on this process copies through the kernel and fails with
/// EFAULT where nothing readable is mapped. That is one system call per page read, where reading and parsing
/// <c>/proc/self/maps</c> took about 0.8 ms in a .NET process with 100 modules loaded, on every load. When the kernel
/// refuses the call itself (a seccomp filter, an old kernel), the reader falls back to the readable ranges of
/// <c>/proc/self/maps</c>, read once per reader.
/// </para>
/// </summary>
internal sealed unsafe class ModuleMemoryReader
{
    private const int PageSize = 4096;

    /// <summary>Set once <c>process_vm_readv</c> failed for a reason other than an unreadable address.</summary>
    private static volatile bool s_kernelRefuses;

    private static readonly int ProcessId = Environment.ProcessId;

    private List<(ulong Start, ulong End)>? _readable;

    /// <summary>
    /// Copies the readable bytes that start at <paramref name="address"/> into <paramref name="destination"/>, stopping
    /// at the first unreadable byte; returns how many were copied.
    /// </summary>
    public int Copy(ulong address, Span<byte> destination)
    {
        int copied = 0;
        while (copied < destination.Length)
        {
            ulong at = address + (ulong)copied;
            if (at < address)
            {
                break; // wrapped around the address space
            }

            int chunk = (int)Math.Min((ulong)(destination.Length - copied), PageSize - (at % PageSize));
            int read = CopyWithinPage(at, destination.Slice(copied, chunk));
            copied += read;
            if (read < chunk)
            {
                break;
            }
        }

        return copied;
    }

    /// <summary>
    /// The C string at <paramref name="address"/>: its bytes without the NUL and true, or, when no NUL comes within
    /// <paramref name="maxBytes"/> readable bytes, how many bytes were readable (at most <paramref name="maxBytes"/>) and false.
    /// </summary>
    public (byte[] Bytes, int Readable, bool Terminated) ReadCString(ulong address, int maxBytes)
    {
        byte[] buffer = new byte[Math.Min(maxBytes, 256)];
        int length = 0;
        while (length < maxBytes)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, Math.Min(maxBytes, buffer.Length * 2));
            }

            int wanted = buffer.Length - length;
            int read = Copy(address + (ulong)length, buffer.AsSpan(length, wanted));
            int nul = buffer.AsSpan(length, read).IndexOf((byte)0);
            if (nul >= 0)
            {
                return (buffer[..(length + nul)], length + nul + 1, true);
            }

            length += read;
            if (read < wanted)
            {
                break;
            }
        }

        return ([], length, false);
    }

    private int CopyWithinPage(ulong address, Span<byte> destination)
    {
        if (!s_kernelRefuses)
        {
            fixed (byte* target = destination)
            {
                var local = new Native.IoVector { Base = (nint)target, Length = (nuint)destination.Length };
                var remote = new Native.IoVector { Base = (nint)address, Length = (nuint)destination.Length };
                nint read = Native.ProcessVmReadv(ProcessId, &local, 1, &remote, 1, 0);
                if (read >= 0)
                {
                    return (int)read;
                }

                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Native.Efault)
                {
                    return 0;
                }
            }

            s_kernelRefuses = true;
        }

        return CopyFromMappedRanges(address, destination);
    }

    private int CopyFromMappedRanges(ulong address, Span<byte> destination)
    {
        _readable ??= ReadableRanges();
        foreach (var (start, end) in _readable)
        {
            if (address >= start && address < end)
            {
                int length = (int)Math.Min((ulong)destination.Length, end - address);
                new ReadOnlySpan<byte>((void*)address, length).CopyTo(destination);
                return length;
            }
        }

        return 0;
    }

    /// <summary>The process's readable address ranges, adjacent mappings merged.</summary>
    private static List<(ulong Start, ulong End)> ReadableRanges()
    {
        var ranges = new List<(ulong Start, ulong End)>();
        foreach (var mapping in ProcessMemoryMap.Read().Where(m => m.IsReadable))
        {
            if (ranges.Count > 0 && ranges[^1].End == mapping.Start)
            {
                ranges[^1] = (ranges[^1].Start, mapping.End);
            }
            else
            {
                ranges.Add((mapping.Start, mapping.End));
            }
        }

        return ranges;
    }
}
