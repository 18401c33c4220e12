namespace HcrLab.Encoders;

/// <summary>A range of bytes relative to the start of a slot.</summary>
public readonly record struct ByteRange(int Offset, int Length)
{
    public static ByteRange Empty => default;

    public int End => Offset + Length;

    public bool IsEmpty => Length == 0;

    /// <summary>True when every byte of this range lies inside <paramref name="outer"/> (an empty range lies anywhere).</summary>
    public bool IsWithin(ByteRange outer) => IsEmpty || (Offset >= outer.Offset && End <= outer.End);

    public override string ToString() => IsEmpty ? "[]" : $"[+{Offset}, +{End})";
}
