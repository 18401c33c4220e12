using Microsoft.Win32.SafeHandles;

namespace HcrLab.Lab.Emulation;

/// <summary>
/// An open <c>uc_engine*</c>. A SafeHandle, so the engine cannot be closed by a finalizer while a native call on it is
/// still running, and is closed exactly once.
/// </summary>
internal sealed class UnicornHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public UnicornHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => UnicornNative.uc_close(handle) == 0;
}
