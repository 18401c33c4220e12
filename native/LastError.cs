using System.Runtime.InteropServices;
using System.Text;

namespace HcrLab.Native;

/// <summary>
/// <c>hcrlabLastError()</c>: per thread, the text of why the last <c>hcrlab*</c> call that returned a status failed, as
/// NUL-terminated UTF-8 that stays valid until that thread's next such call; "" after a call that succeeded.
/// </summary>
internal static unsafe class LastError
{
    private static readonly byte* Empty = (byte*)NativeMemory.AllocZeroed(1);

    [ThreadStatic]
    private static byte* t_text;

    public static byte* Text => t_text != null ? t_text : Empty;

    public static HcrlabStatus Succeeded()
    {
        if (t_text != null)
        {
            Release();
        }

        return HcrlabStatus.Ok;
    }

    /// <summary>Records "<paramref name="function"/>: <paramref name="message"/>" and returns <paramref name="status"/>.</summary>
    public static HcrlabStatus Failed(HcrlabStatus status, string function, string message)
    {
        Release();
        string text = $"{function}: {message}";
        int length = Encoding.UTF8.GetByteCount(text);
        byte* copy = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(copy, length));
        copy[length] = 0;
        t_text = copy;
        return status;
    }

    /// <summary>The status and text an exception stands for.</summary>
    public static HcrlabStatus Failed(string function, Exception e) => Failed(HcrlabStatuses.Of(e), function, e.Message);

    private static void Release()
    {
        NativeMemory.Free(t_text);
        t_text = null;
    }
}
