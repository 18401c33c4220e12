using System.Runtime.InteropServices;

namespace HcrLab.Lab.Emulation;

/// <summary>
/// One Unicorn engine: memory, registers and runs, with every native error code turned into a
/// <see cref="UnicornException"/>. Not thread-safe: use one engine per thread. Creating an engine costs about a
/// millisecond and 3 MiB, so reuse it.
/// </summary>
public sealed unsafe class UnicornEngine : IDisposable
{
    private readonly UnicornHandle _handle;

    private UnicornEngine(UnicornHandle handle, UnicornArch arch, UnicornMode mode)
    {
        _handle = handle;
        Arch = arch;
        Mode = mode;
    }

    public UnicornArch Arch { get; }

    public UnicornMode Mode { get; }

    /// <summary>The loaded library's version, e.g. 2.0.1 (<c>uc_version</c> packs major, minor and patch in bytes 3..1).</summary>
    /// <exception cref="UnicornMissingException">The library is not installed.</exception>
    public static Version LibraryVersion
    {
        get
        {
            uint packed = UnicornNative.uc_version(null, null);
            return new Version((int)(packed >> 24) & 0xFF, (int)(packed >> 16) & 0xFF, (int)(packed >> 8) & 0xFF);
        }
    }

    /// <summary>Loads the library, reporting a missing one as <paramref name="problem"/> (with what to install) instead of throwing.</summary>
    public static bool TryLoad(out string? problem)
    {
        try
        {
            UnicornNative.EnsureLoaded();
            problem = null;
            return true;
        }
        catch (UnicornMissingException missing)
        {
            problem = missing.Message;
            return false;
        }
    }

    /// <exception cref="UnicornMissingException">The library is not installed.</exception>
    /// <exception cref="UnicornException">Unicorn refused the architecture or mode.</exception>
    public static UnicornEngine Open(UnicornArch arch, UnicornMode mode)
    {
        int error = UnicornNative.uc_open((int)arch, (int)mode, out var handle);
        if (error != 0)
        {
            handle.Dispose();
            throw Failure(error, $"uc_open({arch}, {mode})");
        }

        return new UnicornEngine(handle, arch, mode);
    }

    /// <summary>Maps <paramref name="size"/> bytes at <paramref name="address"/>; both must be multiples of 4 KiB.</summary>
    public void Map(ulong address, ulong size, MemoryPermissions permissions) =>
        Check(UnicornNative.uc_mem_map(_handle, address, checked((nuint)size), (uint)permissions), "uc_mem_map", address);

    /// <summary>
    /// Writes memory. Unicorn does not drop translations of code it already ran from these bytes: see
    /// <see cref="RemoveTranslations"/>.
    /// </summary>
    public void Write(ulong address, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* pointer = bytes)
        {
            Check(UnicornNative.uc_mem_write(_handle, address, pointer, (nuint)bytes.Length), "uc_mem_write", address);
        }
    }

    public void Read(ulong address, Span<byte> bytes)
    {
        fixed (byte* pointer = bytes)
        {
            Check(UnicornNative.uc_mem_read(_handle, address, pointer, (nuint)bytes.Length), "uc_mem_read", address);
        }
    }

    /// <summary>Reads a register by its Unicorn id; a 32-bit register reads zero-extended.</summary>
    public ulong ReadRegister(int id)
    {
        // Unicorn writes only the register's width; the rest of the zeroed 64-bit buffer is the zero extension.
        ulong value = 0;
        CheckRegister(UnicornNative.uc_reg_read(_handle, id, &value), "uc_reg_read", id);
        return value;
    }

    /// <summary>Writes a register by its Unicorn id; a 32-bit register takes the low 32 bits (the buffer is little-endian).</summary>
    public void WriteRegister(int id, ulong value) =>
        CheckRegister(UnicornNative.uc_reg_write(_handle, id, &value), "uc_reg_write", id);

    /// <summary>
    /// Runs from <paramref name="begin"/> until the PC reaches <paramref name="until"/> (that instruction is not executed)
    /// or <paramref name="maxInstructions"/> have run. No timeout: a timeout starts a timer thread per run. The count must be
    /// positive: on an engine that ran with a count, a run without one makes Unicorn flush every translation (seconds and
    /// about 1 GiB), so an engine never mixes the two.
    /// </summary>
    /// <exception cref="UnicornException">The emulated code faulted (<see cref="UnicornException.IsEmulationFault"/>) or the call was refused.</exception>
    public void Run(ulong begin, ulong until, ulong maxInstructions)
    {
        ArgumentOutOfRangeException.ThrowIfZero(maxInstructions);
        Check(UnicornNative.uc_emu_start(_handle, begin, until, 0, checked((nuint)maxInstructions)), "uc_emu_start", begin);
    }

    /// <summary>Asks a run in progress (from a hook or another thread) to stop.</summary>
    public void Stop() => Check(UnicornNative.uc_emu_stop(_handle), "uc_emu_stop", 0);

    /// <summary>
    /// Drops the cached translations of code in [<paramref name="begin"/>, <paramref name="end"/>), so that the next run
    /// translates the bytes now in memory. About 0.3 µs, unlike a full flush, which can take seconds.
    /// </summary>
    public void RemoveTranslations(ulong begin, ulong end)
    {
        if (end <= begin)
        {
            // Unicorn would answer UC_ERR_ARG; say which range was wrong instead.
            throw new ArgumentOutOfRangeException(nameof(end), $"empty range [0x{begin:X}, 0x{end:X})");
        }

        Check(UnicornNative.uc_ctl(_handle, UnicornNative.ControlRemoveTranslations, begin, end), "uc_ctl(remove translations)", begin);
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>Unicorn's own message for a code, e.g. <c>Invalid memory fetch (UC_ERR_FETCH_UNMAPPED)</c>.</summary>
    public static string Describe(UnicornError error) =>
        Marshal.PtrToStringUTF8((nint)UnicornNative.uc_strerror((int)error)) ?? error.ToString();

    private static void Check(int error, string operation, ulong address)
    {
        if (error != 0)
        {
            throw Failure(error, $"{operation} at 0x{address:X}");
        }
    }

    private static void CheckRegister(int error, string operation, int id)
    {
        if (error != 0)
        {
            throw Failure(error, $"{operation} of register id {id}");
        }
    }

    private static UnicornException Failure(int code, string operation)
    {
        var error = (UnicornError)code;
        return new UnicornException(error, Describe(error), operation);
    }
}
