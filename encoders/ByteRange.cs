namespace HcrLab.Encoders;

/// <summary>A range of bytes relative to the start of a slot.</summary>
public readonly record struct ByteRange(int Offset, int Length)
{
    /// <summary>The range of no bytes (offset 0, length 0).</summary>
    public static ByteRange Empty => default;

    /// <summary>The offset one past the last byte.</summary>
    public int End => Offset + Length;

    /// <summary>True when the range holds no bytes.</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>True when every byte of this range lies inside <paramref name="outer"/> (an empty range lies anywhere).</summary>
    public bool IsWithin(ByteRange outer) => IsEmpty || (Offset >= outer.Offset && End <= outer.End);

    /// <summary>The range as <c>[+offset, +end)</c>, or <c>[]</c> when empty.</summary>
    public override string ToString() => IsEmpty ? "[]" : $"[+{Offset}, +{End})";
}
