namespace HcrLab.Lab.Emulation;

/// <summary>Unicorn 2.0.1's error codes (<c>uc_err</c>), in the headers' order.</summary>
public enum UnicornError
{
    Ok = 0,
    NoMemory = 1,
    UnsupportedArch = 2,
    InvalidHandle = 3,
    InvalidMode = 4,
    VersionMismatch = 5,
    ReadUnmapped = 6,
    WriteUnmapped = 7,
    FetchUnmapped = 8,
    InvalidHook = 9,
    InvalidInstruction = 10,
    InvalidMapping = 11,
    WriteProtected = 12,
    ReadProtected = 13,
    FetchProtected = 14,
    InvalidArgument = 15,
    ReadUnaligned = 16,
    WriteUnaligned = 17,
    FetchUnaligned = 18,
    HookExists = 19,
    Resource = 20,
    CpuException = 21,
}
