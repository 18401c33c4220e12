using HcrLab.Encoders;
using HcrLab.Lab.Emulation;

namespace HcrLab.Lab.External;

/// <summary>
/// The first line an external encoder writes: <c>hcrlab-encoder VERSION key=value ...</c>. Version 1 knows
/// <c>cpus=</c> (comma-separated: i386, amd64, arm, thumb, arm64; required), <c>modes=</c> (code, data; default code) and
/// <c>scratch=</c> (comma-separated <c>cpu:register</c>, e.g. <c>arm64:x16,amd64:r11</c>; default none). Unknown keys
/// are ignored, so later versions can add some without breaking older labs.
/// </summary>
public sealed record EncoderHandshake(
    int Version,
    IReadOnlyList<InstructionSet> Cpus,
    IReadOnlyList<PatchMode> Modes,
    IReadOnlyDictionary<InstructionSet, IReadOnlySet<string>> Scratch)
{
    public const string Magic = "hcrlab-encoder";
    public const int CurrentVersion = 1;

    public IReadOnlySet<string> ScratchOf(InstructionSet isa) => Scratch.TryGetValue(isa, out var set) ? set : new HashSet<string>();

    /// <exception cref="FormatException">The line is not a version-1 handshake; the message says what is wrong.</exception>
    public static EncoderHandshake Parse(string line)
    {
        string[] fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 2 || fields[0] != Magic)
        {
            throw new FormatException($"the encoder's first line must be '{Magic} 1 cpus=...', got '{Shorten(line)}'");
        }

        if (!int.TryParse(fields[1], out int version) || version < 1)
        {
            throw new FormatException($"the encoder's protocol version '{Shorten(fields[1])}' is not a positive number");
        }

        if (version > CurrentVersion)
        {
            throw new FormatException($"the encoder speaks protocol version {version}; this hcrlab speaks {CurrentVersion}");
        }

        var values = new Dictionary<string, string>();
        foreach (string field in fields[2..])
        {
            int equals = field.IndexOf('=');
            if (equals > 0)
            {
                values[field[..equals]] = field[(equals + 1)..];
            }
        }

        if (!values.TryGetValue("cpus", out string? cpuList))
        {
            throw new FormatException("the encoder's handshake names no cpus= (e.g. cpus=amd64,arm64)");
        }

        var cpus = List(cpuList).Select(ParseCpu).Distinct().Order().ToList();
        var modes = values.TryGetValue("modes", out string? modeList)
            ? [.. List(modeList).Select(m => m switch
            {
                "code" => PatchMode.Code,
                "data" => PatchMode.Data,
                _ => throw new FormatException($"the encoder's handshake names an unknown mode '{Shorten(m)}' (code, data)"),
            }).Distinct()]
            : new List<PatchMode> { PatchMode.Code };

        var scratch = new Dictionary<InstructionSet, IReadOnlySet<string>>();
        foreach (string entry in values.TryGetValue("scratch", out string? scratchList) ? List(scratchList) : [])
        {
            int colon = entry.IndexOf(':');
            var isa = colon > 0 ? ParseCpu(entry[..colon])
                : throw new FormatException($"scratch entry '{Shorten(entry)}' must be cpu:register (e.g. arm64:x16)");
            string register = entry[(colon + 1)..];
            if (!CpuProfile.For(isa).General.Any(r => r.Name == register))
            {
                throw new FormatException($"scratch register '{Shorten(register)}' is not a general register the lab checks on {isa.ShortName()} "
                    + $"({string.Join(", ", CpuProfile.For(isa).General.Select(r => r.Name))})");
            }

            var set = scratch.TryGetValue(isa, out var existing) ? new HashSet<string>(existing) : [];
            set.Add(register);
            scratch[isa] = set;
        }

        return cpus.Count == 0 ? throw new FormatException("the encoder's handshake names no CPU in cpus=")
            : new EncoderHandshake(version, cpus, modes, scratch);
    }

    private static string[] List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static InstructionSet ParseCpu(string name)
    {
        try
        {
            return InstructionSetNames.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"the encoder's handshake: {e.Message}");
        }
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
