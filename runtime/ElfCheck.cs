using System.Buffers.Binary;

namespace HcrLab.Runtime;

/// <summary>
/// Checks, before <c>dlopen</c>, the parts of an x86-64 ELF shared library that glibc's loader trusts without checking
/// itself: the header, the program headers, that every segment's bytes lie inside the file (a truncated library makes
/// the loader touch pages past the end of the file, and the process dies of SIGBUS inside <c>dlopen</c>), and that the
/// addresses the dynamic section gives lie inside a loaded segment (the loader dereferences them). It does not prove a
/// library safe to load — relocations and code are not checked — it turns the common corruptions into an error.
/// </summary>
internal static class ElfCheck
{
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int MaxProgramHeaders = 256;
    private const int MaxDynamicEntries = 4096;

    private const uint PtLoad = 1;
    private const uint PtDynamic = 2;

    /// <summary>Dynamic tags whose value is an address the loader reads: PLTGOT, HASH, STRTAB, SYMTAB, RELA, INIT, FINI, REL, JMPREL, INIT_ARRAY, FINI_ARRAY, GNU_HASH, VERSYM, VERDEF, VERNEED.</summary>
    private static readonly HashSet<long> AddressTags = [3, 4, 5, 6, 7, 12, 13, 17, 23, 25, 26, 0x6ffffef5, 0x6ffffff0, 0x6ffffffc, 0x6ffffffe];

    /// <summary>Null when the file passes, else what is wrong with it, in words.</summary>
    public static string? Problem(string path)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read it: {e.Message}";
        }

        return Problem(file);
    }

    public static string? Problem(ReadOnlySpan<byte> file)
    {
        if (file.Length == 0)
        {
            return "the file is empty";
        }

        if (file.Length < HeaderSize)
        {
            return $"the file has {file.Length} bytes, fewer than an ELF header's {HeaderSize}";
        }

        if (file[0] != 0x7F || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
        {
            return "the file does not start with the ELF magic bytes (7F 45 4C 46)";
        }

        if (file[4] != 2 || file[5] != 1 || file[6] != 1)
        {
            return $"not a 64-bit little-endian ELF version 1 file (class {file[4]}, data {file[5]}, version {file[6]})";
        }

        ushort type = U16(file, 16), machine = U16(file, 18), headerSize = U16(file, 52), entrySize = U16(file, 54), count = U16(file, 56);
        if (type != 3)
        {
            return $"ELF type {type} is not a shared object (3)";
        }

        if (machine != 62)
        {
            return $"ELF machine {machine} is not x86-64 (62)";
        }

        if (headerSize != HeaderSize || entrySize != ProgramHeaderSize || count is 0 or > MaxProgramHeaders)
        {
            return $"implausible ELF header (header size {headerSize}, program header size {entrySize}, {count} program headers)";
        }

        ulong table = U64(file, 32);
        if (!Inside(table, (ulong)count * ProgramHeaderSize, file.Length))
        {
            return $"the program header table (offset {table}, {count} entries) ends past the end of the file ({file.Length} bytes)";
        }

        var loads = new List<(ulong Start, ulong End)>();
        (ulong Offset, ulong Size)? dynamic = null;
        for (int i = 0; i < count; i++)
        {
            int at = (int)table + (i * ProgramHeaderSize);
            uint kind = U32(file, at);
            ulong offset = U64(file, at + 8), address = U64(file, at + 16), fileSize = U64(file, at + 32), memorySize = U64(file, at + 40);
            if (kind is PtLoad or PtDynamic && !Inside(offset, fileSize, file.Length))
            {
                return $"segment {i} (type {kind}) has bytes {offset}..{offset + fileSize} past the end of the file ({file.Length} bytes): is the file truncated?";
            }

            if (kind == PtLoad)
            {
                if (fileSize > memorySize || address + memorySize < address)
                {
                    return $"loadable segment {i} is implausible (file size {fileSize}, memory size {memorySize}, address 0x{address:x})";
                }

                loads.Add((address, address + memorySize));
            }
            else if (kind == PtDynamic)
            {
                dynamic = (offset, fileSize);
            }
        }

        if (loads.Count == 0)
        {
            return "no loadable segment";
        }

        if (dynamic is not { } d)
        {
            return "no dynamic segment: not a shared library";
        }

        for (ulong at = d.Offset; at + 16 <= d.Offset + d.Size && (at - d.Offset) / 16 < MaxDynamicEntries; at += 16)
        {
            long tag = (long)U64(file, (int)at);
            ulong value = U64(file, (int)at + 8);
            if (tag == 0)
            {
                return null;
            }

            if (AddressTags.Contains(tag) && !loads.Any(l => value >= l.Start && value < l.End))
            {
                return $"dynamic entry {tag} points at 0x{value:x}, outside every loadable segment";
            }
        }

        return "the dynamic section has no terminating entry";
    }

    private static bool Inside(ulong offset, ulong size, int length) => offset <= (ulong)length && size <= (ulong)length - offset;

    private static ushort U16(ReadOnlySpan<byte> file, int at) => BinaryPrimitives.ReadUInt16LittleEndian(file[at..]);

    private static uint U32(ReadOnlySpan<byte> file, int at) => BinaryPrimitives.ReadUInt32LittleEndian(file[at..]);

    private static ulong U64(ReadOnlySpan<byte> file, int at) => BinaryPrimitives.ReadUInt64LittleEndian(file[at..]);
}
