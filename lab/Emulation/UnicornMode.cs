namespace HcrLab.Lab.Emulation;

/// <summary>
/// The Unicorn modes the lab uses, with their <c>uc_mode</c> values from the 2.0.1 headers. Little-endian is mode bit
/// value 0, so it needs no member of its own.
/// </summary>
public enum UnicornMode
{
    /// <summary>ARM and arm64 (<c>UC_MODE_ARM</c>). One ARM engine runs A32 and Thumb code: bit 0 of the start address picks the state.</summary>
    Arm = 0,

    /// <summary>32-bit x86 (<c>UC_MODE_32</c>).</summary>
    Bits32 = 4,

    /// <summary>64-bit x86 (<c>UC_MODE_64</c>).</summary>
    Bits64 = 8,

    /// <summary>Starts an ARM engine in Thumb state (<c>UC_MODE_THUMB</c>); the lab does not need it, bit 0 of the start address does the same.</summary>
    Thumb = 16,
}
