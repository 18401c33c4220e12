using System.Text;
using HcrLab.Runtime;

namespace HcrLab.Native;

/// <summary>
/// Nim 1.6's <c>string</c> as its generated C passes it with the default garbage collector (refc, also markAndSweep):
/// a pointer to <c>NimStringDesc { NI len; NI reserved; char data[]; }</c>, NULL for the empty string. <c>reserved</c>
/// holds the capacity and, for literals, a flag bit; the bytes are UTF-8 and <c>len</c> long.
/// </summary>
internal static unsafe class NimString
{
    /// <summary>Offset of <c>data</c>: two <c>NI</c> (64-bit on amd64).</summary>
    private const int DataOffset = 2 * sizeof(long);

    /// <summary>Most bytes a signature hash or a module path is taken to have; a longer length means a wrong argument.</summary>
    private const long MaxLength = 1 << 20;

    /// <summary>
    /// The text, "" for NULL, or null when it is not a Nim string: an impossible length, or a descriptor or bytes that
    /// run off readable memory. Both are copied through the kernel (<see cref="ModuleMemoryReader"/>), which refuses
    /// unreadable addresses instead of faulting: a length that runs off its block would otherwise end the host.
    /// </summary>
    public static string? Decode(byte* descriptor)
    {
        if (descriptor == null)
        {
            return "";
        }

        var memory = new ModuleMemoryReader();
        long length = 0;
        if (memory.Copy((ulong)descriptor, new Span<byte>(&length, sizeof(long))) != sizeof(long) || length is < 0 or > MaxLength)
        {
            return null;
        }

        byte[] bytes = new byte[length];
        return memory.Copy((ulong)(descriptor + DataOffset), bytes) == bytes.Length ? Encoding.UTF8.GetString(bytes) : null;
    }
}
