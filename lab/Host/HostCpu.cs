using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using HcrLab.Encoders;
using HcrLab.Lab.ChildProcesses;

namespace HcrLab.Lab.Host;

/// <summary>
/// This machine's own CPU, reached through <c>hcrhostrun</c> (<c>Host/hcrhostrun.c</c>; amd64 natively and i386 as the
/// 32-bit <c>hcrhostrun32</c> on x86-64, arm64 natively on arm64): a helper process that maps a case's slot and stub pages at the case's own addresses,
/// calls the slot with sentinels in every register it must keep, and says what came back. The helper runs in its own
/// process group and is killed and restarted if it stops answering. Not thread-safe: one per thread.
/// </summary>
public sealed class HostCpu : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private readonly string _helper;
    private LineProcess? _process;

    private HostCpu(string helper)
    {
        _helper = helper;
        _process = Start();
    }

    /// <summary>The host CPU for <paramref name="isa"/>, or null with the reason it cannot run that instruction set here.</summary>
    public static HostCpu? For(InstructionSet isa, out string? unavailable)
    {
        unavailable = null;
        string? name = (RuntimeInformation.OSArchitecture, isa) switch
        {
            (Architecture.X64, InstructionSet.Amd64) or (Architecture.Arm64, InstructionSet.Arm64) => "hcrhostrun",
            (Architecture.X64, InstructionSet.I386) => "hcrhostrun32",
            _ => null,
        };
        if (name is null)
        {
            unavailable = $"the host runner does not run {isa.ShortName()} code on this {RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()} machine "
                + "(it serves amd64 and i386 on x86-64, arm64 on arm64)";
            return null;
        }

        string helper = Path.Combine(AppContext.BaseDirectory, name);
        if (!File.Exists(helper))
        {
            unavailable = $"{helper} is missing (build with gcc)";
            return null;
        }

        try
        {
            return new HostCpu(helper);
        }
        catch (InvalidOperationException e)
        {
            unavailable = e.Message;
            return null;
        }
    }

    /// <summary>Lays out <paramref name="stub"/> at <paramref name="target"/> and <paramref name="slotBytes"/> at <paramref name="slot"/>, then calls the slot.</summary>
    public HostOutcome Run(ulong slot, ReadOnlySpan<byte> slotBytes, ulong target, ReadOnlySpan<byte> stub)
    {
        try
        {
            _process ??= Start();
        }
        catch (InvalidOperationException e)
        {
            return new HostOutcome(false, 0, [], null, e.Message);
        }

        string request = string.Create(CultureInfo.InvariantCulture,
            $"{slot:x} {Convert.ToHexStringLower(slotBytes)} {target:x} {Convert.ToHexStringLower(stub)}");
        if (!_process.TryWriteLine(request) || !_process.TryReadLine(Deadline, out string? answer) || answer is null)
        {
            _process.Dispose();
            _process = null;
            return new HostOutcome(false, 0, [], null, $"the host helper stopped answering (killed with its process group and restarted)");
        }

        string[] fields = answer.Split(' ', 3);
        return fields switch
        {
            ["ran", var result, var clobbered] when uint.TryParse(result, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint value) =>
                new HostOutcome(true, value, clobbered == "-" ? [] : clobbered.Split(','), null, null),
            ["skip", ..] => new HostOutcome(false, 0, [], answer["skip ".Length..], null),
            ["fault", "timeout", _] => new HostOutcome(false, 0, [], null, "the CPU was still running after 1 s (a loop)"),
            ["fault", var signal, var pc] => new HostOutcome(false, 0, [], null, $"the CPU faulted (SIG{signal}) at 0x{pc}"),
            _ => new HostOutcome(false, 0, [], null, $"the host helper answered '{answer}'"),
        };
    }

    public void Dispose() => _process?.Dispose();

    private LineProcess Start()
    {
        LineProcess process;
        try
        {
            process = new LineProcess(_helper, []);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start {_helper}: {e.Message}");
        }

        if (process.TryReadLine(Deadline, out string? first) && first == "hcrhostrun 1")
        {
            return process;
        }

        process.Dispose();
        throw new InvalidOperationException(first is { } line && line.StartsWith("unavailable ", StringComparison.Ordinal)
            ? line["unavailable ".Length..]
            : $"{_helper} did not greet as hcrhostrun 1 (got '{first}')");
    }
}
