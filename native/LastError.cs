using System.Runtime.InteropServices;
using System.Text;

namespace HcrLab.Native;

/// <summary>
/// <c>hcrlabLastError()</c>: per thread, the text of why the last <c>hcrlab*</c> call that returned a status failed, as
/// NUL-terminated UTF-8 that stays valid until that thread's next such call; "" after a call that succeeded. A thread's
/// text is freed when the thread has ended (its holder's finalizer).
/// </summary>
internal static unsafe class LastError
{
    private static readonly byte* Empty = (byte*)NativeMemory.AllocZeroed(1);

    [ThreadStatic]
    private static Holder? t_holder;

    public static byte* Text => t_holder is { Text: not null } holder ? holder.Text : Empty;

    public static HcrlabStatus Succeeded()
    {
        t_holder?.Replace(null);
        return HcrlabStatus.Ok;
    }

    /// <summary>Records "<paramref name="function"/>: <paramref name="message"/>" and returns <paramref name="status"/>.</summary>
    public static HcrlabStatus Failed(HcrlabStatus status, string function, string message)
    {
        string text = $"{function}: {message}";
        int length = Encoding.UTF8.GetByteCount(text);
        byte* copy = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(copy, length));
        copy[length] = 0;
        (t_holder ??= new Holder()).Replace(copy);
        return status;
    }

    /// <summary>The status and text an exception stands for.</summary>
    public static HcrlabStatus Failed(string function, Exception e) => Failed(HcrlabStatuses.Of(e), function, e.Message);

    /// <summary>One thread's text; unreachable once the thread has ended, then finalized.</summary>
    private sealed class Holder
    {
        public byte* Text { get; private set; }

        public void Replace(byte* text)
        {
            NativeMemory.Free(Text);
            Text = text;
        }

        ~Holder() => NativeMemory.Free(Text);
    }
}
