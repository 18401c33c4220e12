using System.Runtime.InteropServices;
using System.Text;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// NUL-terminated copies in native memory, as a C caller passes names to the runtime, freed together by
/// <see cref="Dispose"/> (after which the holder can be used again). Safe to fill from several threads.
/// </summary>
internal sealed unsafe class NativeStrings : IDisposable
{
    private readonly List<nint> _copies = [];

    /// <summary>The UTF-8 bytes of <paramref name="text"/> and a NUL.</summary>
    public byte* Utf8(string text) => Bytes(Encoding.UTF8.GetBytes(text));

    /// <summary><paramref name="bytes"/> as they are (UTF-8 or not) and a NUL.</summary>
    public byte* Bytes(byte[] bytes)
    {
        byte* native = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(native, bytes.Length));
        lock (_copies)
        {
            _copies.Add((nint)native);
        }

        return native;
    }

    public void Dispose()
    {
        lock (_copies)
        {
            foreach (nint copy in _copies)
            {
                NativeMemory.Free((void*)copy);
            }

            _copies.Clear();
        }
    }
}
