using BenchmarkDotNet.Attributes;
using HcrLab.Encoders;

namespace HcrLab.Perf.Benchmarks;

/// <summary>
/// Encodings per second per CPU: plan and write a slot (the encoder's own choice of form) for a fixed mix of near and
/// far targets in code and data mode, the pairs drawn once with a fixed seed. ns per encoding; 1e9 / ns is encodings/s.
/// </summary>
public class EncoderBenchmarks
{
    private const int Pairs = 1024;

    private (ulong Slot, ulong Target, PatchMode Mode)[] _pairs = [];
    private IJumpEncoder? _encoder;
    private byte[] _buffer = [];

    [ParamsSource(nameof(Cpus))]
    public string Cpu { get; set; } = "amd64";

    public static IEnumerable<string> Cpus => InstructionSetNames.All.Select(i => i.ShortName());

    [GlobalSetup]
    public void GlobalSetup()
    {
        _encoder = JumpEncoders.For(InstructionSetNames.Parse(Cpu));
        var facts = _encoder.Facts;
        var random = new Random(4);
        ulong baseSlot = facts.AddressBits == 64 ? 0x2_0000_0000UL : 0x4000_0000UL;
        ulong alignment = (ulong)Math.Max(facts.InstructionAlignment, facts.TargetAlignment);
        var pairs = new List<(ulong, ulong, PatchMode)>();
        for (int i = 0; pairs.Count < Pairs; i++)
        {
            ulong slot = baseSlot + ((ulong)i * 64);
            ulong target = i % 2 == 0
                ? slot + 0x1000 + ((ulong)random.Next(0, 1 << 20) * alignment)
                : (ulong)random.NextInt64() & facts.MaxAddress & ~(alignment - 1);
            if (facts.HasThumbBit && i % 4 < 2)
            {
                target |= 1;
            }

            var mode = i % 3 == 0 ? PatchMode.Data : PatchMode.Code;
            try
            {
                _encoder.Plan(slot, target, mode);
                pairs.Add((slot, target, mode));
            }
            catch (UnencodableJumpException)
            {
                // Out of every form's reach on this CPU: not an encoding to time.
            }
        }

        _pairs = [.. pairs];
        _buffer = new byte[64];
    }

    [Benchmark(OperationsPerInvoke = Pairs)]
    public int PlanAndEncode()
    {
        var encoder = _encoder!;
        int bytes = 0;
        foreach (var (slot, target, mode) in _pairs)
        {
            var plan = encoder.Plan(slot, target, mode);
            encoder.Encode(plan, _buffer);
            bytes += plan.Size;
        }

        return bytes;
    }
}
