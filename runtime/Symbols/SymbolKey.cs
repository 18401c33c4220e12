using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace HcrLab.Runtime;

/// <summary>
/// A module or symbol name as the tables key it: UTF-8 bytes and their hash. A C caller's bytes are the key as they are
/// whenever they are valid UTF-8 (nothing is decoded or copied); invalid bytes are first replaced as
/// <see cref="Marshal.PtrToStringUTF8(nint)"/> decodes them (each maximal invalid sequence becomes U+FFFD), so two byte
/// strings name the same symbol exactly when they decode to the same .NET string (the C ABI refuses names that are not
/// UTF-8 before making a key, so that no two of them alias: issue 11). A
/// .NET name is its UTF-8 encoding; a string holding a lone surrogate (which no C name decodes to) is encoded code unit
/// by code unit (the surrogate as its 3-byte generalised UTF-8 form), which is never valid UTF-8, so it can only meet
/// the same string again.
/// </summary>
internal readonly unsafe ref struct SymbolKey
{
    /// <summary>Names up to this many bytes are encoded from a .NET string into the caller's stack buffer.</summary>
    public const int StackBytes = 256;

    // Per-process seed: the tables' layout (and which names collide) differs from run to run. Random.Shared is seeded by
    // the operating system's random source; RandomNumberGenerator would be no better here (modules are trusted, see
    // HashOf) and on Linux loads OpenSSL, which libhcrlab.so then needs at run time (an arm64 sysroot has none).
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue);

    /// <summary>Test seam: every name hashes alike, so every lookup walks a collision chain.</summary>
    internal static bool CollideEveryName;

    public SymbolKey(ReadOnlySpan<byte> bytes, string? text = null)
    {
        Bytes = bytes;
        Hash = HashOf(bytes);
        Text = text;
    }

    /// <summary>The key's bytes: valid UTF-8, except for a .NET name holding a lone surrogate.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    public uint Hash { get; }

    /// <summary>The .NET string the key was made from, when the caller had one.</summary>
    public string? Text { get; }

    public bool IsEmpty => Bytes.IsEmpty;

    /// <summary>The key of a C string (NULL is empty); valid UTF-8 is used in place.</summary>
    public static SymbolKey FromC(byte* text)
    {
        if (text == null)
        {
            return default;
        }

        var bytes = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text);
        return new SymbolKey(Utf8.IsValid(bytes) ? bytes : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes)));
    }

    /// <summary>
    /// A C string's bytes as they are, unchecked: only for a lookup that trusts a match with a UTF-8 key
    /// (<see cref="NamedSymbol.KeyIsUtf8"/>) and asks again with <see cref="FromC"/> otherwise.
    /// </summary>
    public static SymbolKey Raw(byte* text) => new(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text));

    /// <summary>The key of a .NET string, encoded into <paramref name="buffer"/> when it fits.</summary>
    public static SymbolKey FromString(string text, Span<byte> buffer)
    {
        if (Utf8.FromUtf16(text, buffer, out int read, out int written, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done
            && read == text.Length)
        {
            return new SymbolKey(buffer[..written], text);
        }

        return new SymbolKey(Encode(text), text);
    }

    /// <summary>The key of a .NET string as an array (what a descriptor keeps).</summary>
    public static byte[] Encode(string text)
    {
        if (IsWellFormed(text))
        {
            return Encoding.UTF8.GetBytes(text);
        }

        // A lone surrogate: each code unit on its own, pairs as the code point they form.
        var bytes = new List<byte>(text.Length * 3);
        for (int i = 0; i < text.Length; i++)
        {
            int unit = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text.Substring(i++, 2)));
            }
            else if (unit < 0x80)
            {
                bytes.Add((byte)unit);
            }
            else if (unit < 0x800)
            {
                bytes.AddRange([(byte)(0xC0 | (unit >> 6)), (byte)(0x80 | (unit & 0x3F))]);
            }
            else
            {
                bytes.AddRange([(byte)(0xE0 | (unit >> 12)), (byte)(0x80 | ((unit >> 6) & 0x3F)), (byte)(0x80 | (unit & 0x3F))]);
            }
        }

        return [.. bytes];
    }

    private static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        for (int i = text.IndexOfAnyInRange('\uD800', '\uDFFF'); i >= 0 && i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The name as a .NET string: what the C ABI's decoding made of it before (keys of .NET names keep their string).</summary>
    public static string ToText(ReadOnlySpan<byte> key) => Encoding.UTF8.GetString(key);

    public override string ToString() => Text ?? ToText(Bytes);

    /// <summary>
    /// A seeded hash that keeps names that differ only near their end close together: all but the last eight bytes are
    /// folded in 8-byte words (multiply-xor), the last ones a byte at a time with h = 33h ^ byte. Names a module declares
    /// together (p0000001, p0000002, ...) then land in nearby buckets and a pass over them reads the table almost in order;
    /// a well-mixed hash sent each such lookup to a random cache line and page, which at a million names doubled its cost.
    /// Modules are trusted code in the host's process, so collisions made on purpose are not a threat to defend against.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HashOf(ReadOnlySpan<byte> bytes)
    {
        if (CollideEveryName)
        {
            return 0x5EED;
        }

        const ulong Multiplier = 0x9E3779B97F4A7C15;
        ulong h = Seed ^ ((ulong)bytes.Length * Multiplier);
        ref byte start = ref MemoryMarshal.GetReference(bytes);
        int length = bytes.Length, i = 0;
        for (; i + 8 < length; i += 8)
        {
            h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i))) * Multiplier;
            h ^= h >> 29;
        }

        uint x = (uint)(h ^ (h >> 32));
        for (; i < length; i++)
        {
            x = ((x << 5) + x) ^ Unsafe.Add(ref start, i);
        }

        return x;
    }
}
