using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace HcrLab.Scenarios;

/// <summary>
/// Reads files the tools are given (steps files, module sources, prebuilt libraries) only when they are regular files
/// of bounded size. A FIFO would block the reader until someone writes to it, and a device such as <c>/dev/zero</c>
/// never ends: so the file is opened without blocking (<c>O_NONBLOCK</c>, which opens a FIFO at once and changes
/// nothing for a regular file), examined through the open handle (no window between check and read), and refused
/// with <see cref="UnreadableFileException"/> unless it is a regular file within the limit; the read stops at the
/// limit too, should the file grow meanwhile.
/// </summary>
public static partial class BoundedFile
{
    // fcntl.h; the same values on x86-64 and arm64 (asm-generic).
    private const int ReadOnly = 0;
    private const int NoControllingTerminal = 0x100;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;

    /// <summary>The file's bytes as UTF-8 text (a leading byte order mark dropped, as <see cref="File.ReadAllText(string)"/> does).</summary>
    /// <exception cref="UnreadableFileException">It is missing, unreadable, not a regular file, or larger than <paramref name="maxBytes"/>.</exception>
    public static string ReadAllText(string path, long maxBytes)
    {
        string text = new UTF8Encoding(false).GetString(ReadAllBytes(path, maxBytes));
        return text.StartsWith('\uFEFF') ? text[1..] : text;
    }

    /// <inheritdoc cref="ReadAllText"/>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        using var handle = OpenRegular(path, maxBytes, out long size);
        var bytes = new byte[size + 1];
        int total = 0, read;
        while (total < bytes.Length && (read = RandomAccess.Read(handle, bytes.AsSpan(total), total)) > 0)
        {
            total += read;
        }

        // One byte past the size seen means the file grew after it was examined: judge the limit on what is there.
        if (total > maxBytes)
        {
            throw new UnreadableFileException(path, string.Create(CultureInfo.InvariantCulture, $"it grew past the {maxBytes:N0} bytes allowed while being read"));
        }

        return bytes[..total];
    }

    /// <summary>Copies a regular file of at most <paramref name="maxBytes"/> to <paramref name="destination"/> (created, not overwritten).</summary>
    /// <exception cref="UnreadableFileException">The source is missing, unreadable, not a regular file, or too large.</exception>
    public static void Copy(string source, string destination, long maxBytes)
    {
        byte[] bytes = ReadAllBytes(source, maxBytes);
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
        output.Write(bytes);
    }

    private static SafeFileHandle OpenRegular(string path, long maxBytes, out long size)
    {
        int descriptor = Open(path, ReadOnly | NonBlocking | NoControllingTerminal | CloseOnExec);
        if (descriptor < 0)
        {
            throw new UnreadableFileException(path, $"it cannot be opened: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        try
        {
            var facts = UnixFile.Of(handle, path);
            if (facts.Kind != UnixFileKind.Regular)
            {
                throw new UnreadableFileException(path, $"it is {UnixFile.Describe(facts.Kind)}, not a regular file");
            }

            if (facts.Size > maxBytes)
            {
                throw new UnreadableFileException(path, string.Create(CultureInfo.InvariantCulture, $"it is {facts.Size:N0} bytes, more than the {maxBytes:N0} allowed"));
            }

            size = facts.Size;
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
