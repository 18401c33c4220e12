namespace HcrLab.Lab.Emulation;

/// <summary>The Unicorn 2 shared library could not be loaded; the message says how to install it.</summary>
public sealed class UnicornMissingException : Exception
{
    /// <summary>What the user has to do, word for word.</summary>
    public const string Advice =
        "Unicorn 2 (libunicorn.so.2) is not installed: run `sudo apt-get install libunicorn2` (Debian/Ubuntu)";

    public UnicornMissingException()
        : base(Advice)
    {
    }
}
