using System.Text;

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

    /// <summary>The text, "" for NULL, or null when the length is impossible (not a Nim string).</summary>
    public static string? Decode(byte* descriptor)
    {
        if (descriptor == null)
        {
            return "";
        }

        long length = *(long*)descriptor;
        return length is < 0 or > MaxLength ? null : Encoding.UTF8.GetString(descriptor + DataOffset, (int)length);
    }
}
