using System.Runtime.InteropServices;
using System.Text;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// Distinct symbol names as NUL-terminated UTF-8 strings in native memory, built once before timing starts, the way a
/// module's names sit in its data segment: a benchmark passes <see cref="this[int]"/> straight to the C ABI.
/// </summary>
public sealed unsafe class NativeNames : IDisposable
{
    private readonly byte** _names;
    private readonly byte* _text;

    /// <param name="prefix">The names are prefix + a 7-digit number (as the C anchor spells them) + suffix.</param>
    /// <param name="count">How many names.</param>
    /// <param name="suffix">Text after the number.</param>
    /// <param name="digits">False for the plain number (module file names: m0.so, m1.so, ...).</param>
    public NativeNames(string prefix, int count, string suffix = "", bool digits = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int stride = Encoding.UTF8.GetByteCount(prefix) + Encoding.UTF8.GetByteCount(suffix) + 12;
        Count = count;
        _names = (byte**)NativeMemory.Alloc((nuint)Math.Max(count, 1), (nuint)sizeof(byte*));
        _text = (byte*)NativeMemory.Alloc((nuint)Math.Max(count, 1), (nuint)stride);
        for (int i = 0; i < count; i++)
        {
            var name = new Span<byte>(_text + ((long)i * stride), stride);
            int written = Encoding.UTF8.GetBytes(digits ? $"{prefix}{i:D7}{suffix}" : $"{prefix}{i}{suffix}", name);
            name[written] = 0;
            _names[i] = _text + ((long)i * stride);
        }
    }

    public int Count { get; }

    public byte* this[int index] => _names[index];

    /// <summary>One C string that lives as long as the process (a module name, as in a module's data segment).</summary>
    public static byte* Single(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        byte* bytes = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(bytes, length));
        bytes[length] = 0;
        return bytes;
    }

    public void Dispose()
    {
        NativeMemory.Free(_names);
        NativeMemory.Free(_text);
    }
}
