using System.Buffers.Binary;

namespace HcrLab.Runtime;

/// <summary>
/// Checks, before <c>dlopen</c>, the parts of an x86-64 ELF shared library that glibc's loader trusts without checking
/// itself: the header, the program headers, that every segment's bytes lie inside the file (a truncated library makes
/// the loader touch pages past the end of the file, and the process dies of SIGBUS inside <c>dlopen</c>), and that the
/// addresses the dynamic section gives lie inside a loaded segment (the loader dereferences them). It does not prove a
/// library safe to load — relocations and code are not checked — it turns the common corruptions into an error.
/// </summary>
public static class ElfCheck
{
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int MaxProgramHeaders = 256;
    private const int MaxDynamicEntries = 4096;

    private const uint PtLoad = 1;
    private const uint PtDynamic = 2;
    private const uint PtNote = 4;
    private const uint PtTls = 7;
    private const uint PtGnuRelro = 0x6474e552;
    private const uint PtGnuProperty = 0x6474e553;

    private const long DtNeeded = 1, DtPltrelsz = 2, DtHash = 4, DtStrtab = 5, DtSymtab = 6, DtRela = 7, DtRelasz = 8, DtRelaent = 9;
    private const long DtStrsz = 10, DtSyment = 11, DtInit = 12, DtFini = 13, DtSoname = 14, DtRpath = 15, DtRel = 17, DtPltrel = 20;
    private const long DtTextrel = 22, DtJmprel = 23, DtInitArray = 25, DtFiniArray = 26, DtInitArraysz = 27, DtFiniArraysz = 28;
    private const long DtRunpath = 29, DtFlags = 30, DtGnuHash = 0x6ffffef5, DtVersym = 0x6ffffff0, DtVerdef = 0x6ffffffc;
    private const long DtVerdefnum = 0x6ffffffd, DtVerneed = 0x6ffffffe, DtVerneednum = 0x6fffffff;
    private const long DtRelacount = 0x6ffffff9;

    /// <summary>Entries that go together: a table and its size (JMPREL also needs PLTREL), a version table and its count.</summary>
    private static readonly (long, long)[] RequiredPairs =
    [
        (DtRela, DtRelasz), (DtJmprel, DtPltrelsz), (DtJmprel, DtPltrel), (DtStrtab, DtStrsz), (DtInitArray, DtInitArraysz),
        (DtFiniArray, DtFiniArraysz), (DtVerneed, DtVerneednum), (DtVerdef, DtVerdefnum),
    ];

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

    /// <summary>The check for a module of this process's CPU (<see cref="HostCpu.Current"/>).</summary>
    public static string? Problem(byte[] file) =>
        Problem(file, HostCpu.Current ?? throw new PlatformNotSupportedException("the runtime knows no ELF facts for this CPU"));

    /// <summary>The same check for a module built for <paramref name="cpu"/>.</summary>
    public static string? Problem(byte[] file, HostCpu cpu)
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

        if (machine != cpu.ElfMachine)
        {
            return $"ELF machine {machine} is not {cpu.Name} ({cpu.ElfMachine})";
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

        var image = new Image(file, cpu);
        for (int i = 0; i < count; i++)
        {
            int at = (int)table + (i * ProgramHeaderSize);
            var segment = new Segment(U32(file, at), U32(file, at + 4), U64(file, at + 8), U64(file, at + 16), U64(file, at + 32), U64(file, at + 40), U64(file, at + 48));
            if (segment.Type is PtLoad or PtDynamic or PtNote or PtTls or PtGnuProperty && !Inside(segment.Offset, segment.FileSize, file.Length))
            {
                return $"segment {i} (type 0x{segment.Type:x}) has bytes {segment.Offset}..{segment.Offset + segment.FileSize} past the end of the file ({file.Length} bytes): is the file truncated?";
            }

            if (segment.Type == PtLoad)
            {
                if (segment.FileSize > segment.MemorySize || segment.Address + segment.MemorySize < segment.Address
                    || (segment.Align > 1 && (segment.Align & (segment.Align - 1)) != 0))
                {
                    return $"loadable segment {i} is implausible (file size {segment.FileSize}, memory size {segment.MemorySize}, address 0x{segment.Address:x}, alignment {segment.Align})";
                }

                if (image.Loads.Count > 0 && segment.Address < image.Loads[^1].Address + image.Loads[^1].MemorySize)
                {
                    return $"loadable segment {i} overlaps or precedes the one before it (the loader expects them in ascending address order)";
                }

                image.Loads.Add(segment);
            }
            else if (segment.Type == PtDynamic)
            {
                image.Dynamic = segment;
            }
            else if (segment.Type == PtGnuRelro)
            {
                image.Relro = segment;
            }
        }

        if (image.Loads.Count == 0)
        {
            return "no loadable segment";
        }

        if (image.Relro is { } relro && !image.InMemory(relro.Address, relro.MemorySize))
        {
            return $"the read-only-after-relocation range 0x{relro.Address:x} (+{relro.MemorySize}) is outside the loadable segments";
        }

        return image.Dynamic is null ? "no dynamic segment: not a shared library" : image.CheckDynamic();
    }

    private static bool Inside(ulong offset, ulong size, int length) => offset <= (ulong)length && size <= (ulong)length - offset;

    private readonly record struct Segment(uint Type, uint Flags, ulong Offset, ulong Address, ulong FileSize, ulong MemorySize, ulong Align)
    {
        public bool Writable => (Flags & 2) != 0;

        public bool Executable => (Flags & 1) != 0;
    }

    /// <summary>The file and its segments: addresses are checked against the segments and read through the file.</summary>
    private sealed class Image(byte[] file, HostCpu cpu)
    {
        private readonly byte[] _file = file;
        private readonly Dictionary<long, ulong> _tags = [];

        public List<Segment> Loads { get; } = [];

        public Segment? Dynamic { get; set; }

        public Segment? Relro { get; set; }

        /// <summary>[address, address + size) lies in one loadable segment's memory (size 0: at most its end).</summary>
        public bool InMemory(ulong address, ulong size, bool writable = false, bool executable = false) => Loads.Any(l =>
            address >= l.Address && address - l.Address <= l.MemorySize && size <= l.MemorySize - (address - l.Address)
            && (!writable || l.Writable) && (!executable || l.Executable));

        /// <summary>The file offset of [address, address + size) when it lies in one segment's file bytes, else -1.</summary>
        public long FileOffset(ulong address, ulong size)
        {
            foreach (var l in Loads)
            {
                if (address >= l.Address && address - l.Address <= l.FileSize && size <= l.FileSize - (address - l.Address))
                {
                    return (long)(l.Offset + (address - l.Address));
                }
            }

            return -1;
        }

        public string? CheckDynamic()
        {
            var d = Dynamic!.Value;

            // The loader reads the dynamic section at its address, this check at its file offset: they must be the same
            // bytes (the one-process fuzz run died on a flipped bit in the address).
            if (FileOffset(d.Address, d.FileSize) != (long)d.Offset)
            {
                return $"the dynamic segment's address 0x{d.Address:x} is not where a loadable segment maps its file offset 0x{d.Offset:x}";
            }

            var needed = new List<ulong>();
            bool terminated = false;
            for (ulong at = d.Offset; at + 16 <= d.Offset + d.FileSize && (at - d.Offset) / 16 < MaxDynamicEntries; at += 16)
            {
                long tag = (long)U64(_file, (int)at);
                ulong value = U64(_file, (int)at + 8);
                if (tag == 0)
                {
                    terminated = true;
                    break;
                }

                if (AddressTags.Contains(tag) && !InMemory(value, 0))
                {
                    return $"dynamic entry {tag} points at 0x{value:x}, outside every loadable segment";
                }

                if (tag is DtNeeded or DtSoname or DtRpath or DtRunpath)
                {
                    needed.Add(value);
                }

                _tags.TryAdd(tag, value);
            }

            if (!terminated)
            {
                return "the dynamic section has no terminating entry";
            }

            if (_tags.Keys.FirstOrDefault(t => !KnownTag(t)) is var unknown && unknown != 0)
            {
                return $"the dynamic section has an entry of unknown type 0x{unknown:x}";
            }

            // glibc reads the second of each pair whenever the first is there, without checking that it is.
            foreach (var (first, second) in RequiredPairs)
            {
                if (_tags.ContainsKey(first) != _tags.ContainsKey(second) && (_tags.ContainsKey(first) || first != DtJmprel))
                {
                    return $"the dynamic section has entry {(_tags.ContainsKey(first) ? first : second)} without entry {(_tags.ContainsKey(first) ? second : first)}";
                }
            }

            if (!_tags.ContainsKey(DtStrtab) || !_tags.ContainsKey(DtSymtab))
            {
                return "the dynamic section has no string table or no symbol table";
            }

            ulong strtab = Tag(DtStrtab), strsz = Tag(DtStrsz);
            if (FileOffset(strtab, strsz) < 0 || strsz == 0)
            {
                return $"the string table (0x{strtab:x}, {strsz} bytes) is not inside the file's loadable bytes";
            }

            if (needed.FirstOrDefault(n => n >= strsz) is var bad && bad != 0)
            {
                return $"a library name or search path starts at string offset {bad}, past the string table ({strsz} bytes)";
            }

            if (_tags.TryGetValue(DtSyment, out ulong syment) && syment != 24 || _tags.TryGetValue(DtRelaent, out ulong relaent) && relaent != 24
                || _tags.TryGetValue(DtPltrel, out ulong pltrel) && pltrel != DtRela || _tags.ContainsKey(DtRel))
            {
                return "the dynamic section describes symbol or relocation entries of another format than ELF64 RELA";
            }

            foreach (var (start, sizeTag, what) in new[] { (DtInitArray, DtInitArraysz, "constructor"), (DtFiniArray, DtFiniArraysz, "destructor") })
            {
                if (_tags.TryGetValue(start, out ulong array) && (Tag(sizeTag) % 8 != 0 || !InMemory(array, Tag(sizeTag))))
                {
                    return $"the {what} array (0x{array:x}, {Tag(sizeTag)} bytes) is outside the loadable segments";
                }
            }

            foreach (long code in new[] { DtInit, DtFini })
            {
                if (_tags.TryGetValue(code, out ulong function) && !InMemory(function, 1, executable: true))
                {
                    return $"dynamic entry {code} (a function the loader calls) points at 0x{function:x}, outside the executable segments";
                }
            }

            long symbols = SymbolCount(out string? hashProblem);
            if (hashProblem is not null)
            {
                return hashProblem;
            }

            return CheckSymbols(symbols, strsz) ?? CheckRelocations(symbols) ?? CheckVersions(symbols, strsz);
        }

        private ulong Tag(long tag) => _tags.GetValueOrDefault(tag);

        /// <summary>The generic tags (up to DT_RELRENT), the GNU value, address and version ranges, and the processor and filter range.</summary>
        private static bool KnownTag(long tag) =>
            tag is >= 0 and <= 37 or >= 0x6ffffd00 and <= 0x6ffffeff or >= 0x6ffffff0 and <= 0x7fffffff;

        /// <summary>The dynamic symbol count, from DT_HASH or DT_GNU_HASH (-1 when neither is there).</summary>
        private long SymbolCount(out string? problem)
        {
            problem = null;
            if (_tags.TryGetValue(DtHash, out ulong hash))
            {
                long at = FileOffset(hash, 8);
                if (at < 0)
                {
                    problem = "the symbol hash table is not inside the file's loadable bytes";
                    return -1;
                }

                uint hashBuckets = U32(_file, (int)at), chains = U32(_file, (int)at + 4);
                if (hashBuckets == 0 || FileOffset(hash, 8 + (4 * ((ulong)hashBuckets + chains))) < 0)
                {
                    problem = $"the symbol hash table ({hashBuckets} buckets, {chains} chains) is empty or runs out of the file";
                    return -1;
                }

                return chains;
            }

            if (!_tags.TryGetValue(DtGnuHash, out ulong gnu))
            {
                return -1;
            }

            long header = FileOffset(gnu, 16);
            if (header < 0)
            {
                problem = "the GNU hash table is not inside the file's loadable bytes";
                return -1;
            }

            uint count = U32(_file, (int)header), offset = U32(_file, (int)header + 4), bloom = U32(_file, (int)header + 8);
            ulong bucketsAt = gnu + 16 + (8UL * bloom);
            long buckets = FileOffset(bucketsAt, 4UL * count);
            if (count == 0 || bloom == 0 || (bloom & (bloom - 1)) != 0 || buckets < 0)
            {
                problem = $"the GNU hash table ({count} buckets, {bloom} bloom words) is empty, malformed or runs out of the file";
                return -1;
            }

            uint last = 0;
            for (int i = 0; i < count; i++)
            {
                last = Math.Max(last, U32(_file, (int)buckets + (4 * i)));
            }

            if (last == 0)
            {
                // No hashed symbol: the count is not recorded anywhere (some linkers leave symbols past the offset).
                return -1;
            }

            if (last < offset)
            {
                problem = $"a GNU hash bucket starts at symbol {last}, before the first hashed symbol {offset}";
                return -1;
            }

            ulong chainsAt = bucketsAt + (4UL * count);
            for (ulong index = last; ; index++)
            {
                long chain = FileOffset(chainsAt + (4 * (index - offset)), 4);
                if (chain < 0 || index - last > (ulong)_file.Length)
                {
                    problem = "a GNU hash chain runs out of the file";
                    return -1;
                }

                if ((U32(_file, (int)chain) & 1) != 0)
                {
                    return (long)index + 1;
                }
            }
        }

        private string? CheckSymbols(long symbols, ulong strsz)
        {
            if (symbols < 0)
            {
                return null;
            }

            ulong symtab = Tag(DtSymtab);
            long at = FileOffset(symtab, (ulong)symbols * 24);
            if (at < 0)
            {
                return $"the symbol table (0x{symtab:x}, {symbols} symbols) is not inside the file's loadable bytes";
            }

            for (long i = 0; i < symbols; i++)
            {
                int entry = (int)(at + (24 * i));
                uint name = U32(_file, entry);
                byte kind = (byte)(_file[entry + 4] & 0xF);
                ushort section = U16(_file, entry + 6);
                ulong value = U64(_file, entry + 8);
                if (name >= strsz)
                {
                    return $"symbol {i}'s name starts at string offset {name}, past the string table ({strsz} bytes)";
                }

                // Defined, not absolute, not thread-local (those values are offsets into the TLS block): inside the image.
                if (section != 0 && section < 0xFF00 && kind != 6 && !InMemory(value, 0))
                {
                    return $"symbol {i} is defined at 0x{value:x}, outside the loadable segments";
                }
            }

            return null;
        }

        private string? CheckRelocations(long symbols)
        {
            bool textRelocations = _tags.ContainsKey(DtTextrel) || (Tag(DtFlags) & 4) != 0;
            foreach (var (startTag, sizeTag) in new[] { (DtRela, DtRelasz), (DtJmprel, DtPltrelsz) })
            {
                if (!_tags.TryGetValue(startTag, out ulong start))
                {
                    continue;
                }

                ulong size = Tag(sizeTag);
                long at = FileOffset(start, size);
                if (at < 0 || size % 24 != 0)
                {
                    return $"the relocation table (0x{start:x}, {size} bytes) is not inside the file's loadable bytes";
                }

                for (ulong i = 0; i < size / 24; i++)
                {
                    int entry = (int)(at + (long)(24 * i));
                    ulong place = U64(_file, entry), info = U64(_file, entry + 8), addend = U64(_file, entry + 16);
                    uint type = (uint)info, symbol = (uint)(info >> 32);
                    if (type == 0)
                    {
                        continue;
                    }

                    if (!InMemory(place, 8, writable: !textRelocations))
                    {
                        return $"relocation {i} writes at 0x{place:x}, outside the writable segments";
                    }

                    if (symbols >= 0 && symbol >= symbols)
                    {
                        return $"relocation {i} names symbol {symbol}; there are {symbols}";
                    }

                    // RELATIVE: the image's own address + addend, a pointer into the image (one past an array's end
                    // included); IRELATIVE: a resolver the loader calls.
                    if ((type == cpu.RelativeRelocation && !InMemory(addend, 0)) || (type == cpu.IrelativeRelocation && !InMemory(addend, 1, executable: true)))
                    {
                        return $"relocation {i} (type {type}) points at 0x{addend:x}, outside the loadable segments";
                    }
                }
            }

            return CheckRelativeCount();
        }

        /// <summary>
        /// glibc's loader applies the first DT_RELACOUNT relocations of DT_RELA as RELATIVE ones and asserts that they
        /// are: another type there ends the process with "Inconsistency detected by ld.so" (the long fuzz run: 13 files).
        /// </summary>
        private string? CheckRelativeCount()
        {
            if (!_tags.TryGetValue(DtRelacount, out ulong declared) || !_tags.TryGetValue(DtRela, out ulong start))
            {
                return null;
            }

            ulong size = Tag(DtRelasz);
            long at = FileOffset(start, size);
            for (ulong i = 0; i < Math.Min(declared, size / 24); i++)
            {
                uint type = (uint)U64(_file, (int)(at + (long)(24 * i) + 8));
                if (type != cpu.RelativeRelocation)
                {
                    return $"relocation {i} has type {type}, but DT_RELACOUNT says the first {declared} are RELATIVE (type {cpu.RelativeRelocation})";
                }
            }

            return null;
        }

        private string? CheckVersions(long symbols, ulong strsz)
        {
            int highest = 1;
            foreach (var (tag, countTag, isDefinition) in new[] { (DtVerneed, DtVerneednum, false), (DtVerdef, DtVerdefnum, true) })
            {
                if (!_tags.TryGetValue(tag, out ulong address))
                {
                    continue;
                }

                ulong count = Tag(countTag);
                for (ulong i = 0; i < count; i++)
                {
                    long at = FileOffset(address, 16);
                    if (at < 0 || i > 4096)
                    {
                        return "a version table entry is not inside the file's loadable bytes";
                    }

                    // Verneed: version, count, file name, aux offset, next. Verdef: version, flags, index, count, hash, aux, next.
                    uint auxCount = U16(_file, (int)at + (isDefinition ? 6 : 2));
                    ulong aux = address + U32(_file, (int)at + (isDefinition ? 12 : 8));
                    if (isDefinition)
                    {
                        highest = Math.Max(highest, U16(_file, (int)at + 4) & 0x7FFF);
                    }
                    else if (U32(_file, (int)at + 4) >= strsz)
                    {
                        return "a needed version's library name is past the string table";
                    }

                    for (uint j = 0; j < auxCount; j++)
                    {
                        long auxAt = FileOffset(aux, isDefinition ? 8UL : 16UL);
                        if (auxAt < 0 || j > 4096)
                        {
                            return "a version table entry is not inside the file's loadable bytes";
                        }

                        uint name = U32(_file, (int)auxAt + (isDefinition ? 0 : 8));
                        if (name >= strsz)
                        {
                            return "a version name is past the string table";
                        }

                        if (!isDefinition)
                        {
                            highest = Math.Max(highest, U16(_file, (int)auxAt + 6) & 0x7FFF);
                        }

                        aux += U32(_file, (int)auxAt + (isDefinition ? 4 : 12));
                    }

                    address += U32(_file, (int)at + (isDefinition ? 16 : 12));
                }
            }

            if (symbols >= 0 && _tags.TryGetValue(DtVersym, out ulong versym))
            {
                long at = FileOffset(versym, 2 * (ulong)symbols);
                if (at < 0)
                {
                    return "the symbol version table is not inside the file's loadable bytes";
                }

                for (long i = 0; i < symbols; i++)
                {
                    int index = U16(_file, (int)(at + (2 * i))) & 0x7FFF;
                    if (index > highest)
                    {
                        return $"symbol {i} has version index {index}; the version tables define up to {highest}";
                    }
                }
            }

            return null;
        }
    }

    private static ushort U16(byte[] file, int at) => BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at));

    private static uint U32(byte[] file, int at) => BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));

    private static ulong U64(byte[] file, int at) => BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at));
}
