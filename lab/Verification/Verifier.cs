using System.Collections.Concurrent;
using CsCheck;
using HcrLab.Encoders;
using HcrLab.Lab.External;
using HcrLab.Lab.Host;

namespace HcrLab.Lab.Verification;

/// <summary>Options of one verification run.</summary>
/// <param name="Isas">The instruction sets to verify.</param>
/// <param name="RandomCases">Random cases in total, shared out over the instruction sets.</param>
/// <param name="Seed">The hexadecimal seed the random cases come from (a report's <c>seed</c> replays that run); null to choose one.</param>
/// <param name="MaxFailuresKept">How many failing cases per instruction set are kept with their bytes and disassembly.</param>
/// <param name="Encoder">An external encoder to verify instead of the shipped ones, or null.</param>
/// <param name="EncoderDeadline">How long the external encoder may take for one answer (default 5 s).</param>
/// <param name="On">Where the cases run: the emulator, this machine's CPU (for the instruction sets it runs), or both.</param>
/// <param name="Shard">Run only this part of the cases (of the same fixed sequence of random cases).</param>
public sealed record VerifyOptions(
    IReadOnlyList<InstructionSet> Isas,
    int RandomCases,
    string? Seed,
    int MaxFailuresKept = 10,
    EncoderCommandLine? Encoder = null,
    TimeSpan? EncoderDeadline = null,
    Shard? Shard = null,
    ExecutionSite On = ExecutionSite.Emulator);

/// <summary>Runs the fixed matrix and the random cases of each instruction set, one emulator per instruction set, in parallel.</summary>
public static class Verifier
{
    /// <summary>Progress: the instruction set, cases done, cases planned.</summary>
    public delegate void ProgressHandler(InstructionSet isa, int done, int total);

    /// <summary>
    /// The random cases each of <paramref name="isaCount"/> instruction sets runs so that together they run at least
    /// <paramref name="total"/>: the quotient rounded up, computed in 64 bits (in 32, a total near int.MaxValue
    /// overflowed to a negative share and no random case ran at all).
    /// </summary>
    public static int RandomCasesEach(int total, int isaCount) =>
        isaCount == 0 ? 0 : (int)(((long)total + isaCount - 1) / isaCount);

    /// <exception cref="ExternalEncoderException">The external encoder cannot be started or keeps failing.</exception>
    /// <exception cref="FormatException">The seed is not a hexadecimal number.</exception>
    public static VerificationReport Run(VerifyOptions options, ProgressHandler? progress = null)
    {
        var started = DateTime.UtcNow;
        // Written the one way (lowercase, no 0x), so that shards given 0x1F and 1f merge as the one seed they are.
        ulong runSeed = options.Seed is { } given ? ParseSeed(given) : (ulong)Random.Shared.NextInt64();
        string seed = $"{runSeed:x}";
        var tallies = new ConcurrentDictionary<(InstructionSet, string), Tally>();
        var failures = new ConcurrentBag<CaseResult>();
        var hostNotes = new ConcurrentDictionary<InstructionSet, string>();
        var firstSkips = new ConcurrentDictionary<InstructionSet, string>();
        int randomEach = RandomCasesEach(options.RandomCases, options.Isas.Count);

        Parallel.ForEach(options.Isas, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, isa =>
        {
            using var runner = CreateRunner(isa, options, hostNotes);
            IReadOnlyList<JumpCase> matrix = CaseMatrix.For(isa, runner.IsReserved);
            if (options.Encoder is not null)
            {
                // An external encoder is never told a form: forced-form cases become requests, each asked once.
                matrix = [.. matrix.Select(runner.Adapt).OfType<JumpCase>().DistinctBy(c => (c.Mode, c.Slot, c.Target))];
            }

            int randomHere = randomEach;
            if (options.Shard is { } shard)
            {
                matrix = [.. matrix.Where((_, i) => shard.Includes(i))];
                randomHere = Enumerable.Range(0, randomEach).Count(shard.Includes);
            }

            int total = matrix.Count + randomHere;
            int done = 0;
            int kept = 0;

            void Record(CaseResult result, bool random)
            {
                tallies.GetOrAdd((isa, result.Row), _ => new Tally())
                    .Add(result.Passed, random, result.Passed && result.Unverified is not null, result.Passed && result.Note is not null, result.HostSkipped is not null, result.States);
                if (result.HostSkipped is { } skipped)
                {
                    firstSkips.TryAdd(isa, skipped);
                }

                if (!result.Passed && Interlocked.Increment(ref kept) <= options.MaxFailuresKept)
                {
                    failures.Add(result);
                }

                if (++done % 64 == 0 || done == total)
                {
                    progress?.Invoke(isa, done, total);
                }
            }

            foreach (var c in matrix)
            {
                Record(runner.Run(c), random: false);
            }

            RunRandom(isa, runner, randomEach, runSeed, options.Shard ?? new Shard(1, 1), Record);

        });

        var rows = tallies
            .Select(t => new FormTally(t.Key.Item1, t.Key.Item2, t.Value.Cases, t.Value.Passed, t.Value.Random, t.Value.Unverified, t.Value.Longer, t.Value.HostSkipped, t.Value.States))
            .OrderBy(r => r.Isa)
            .ThenBy(r => FormOrder(r.Isa, r.Form))
            .ToList();
        var orderedFailures = failures.OrderBy(f => f.Case.Isa).ThenBy(f => f.Case.Slot).ThenBy(f => f.Case.Target).ToList();
        return new VerificationReport(
            rows, orderedFailures, DateTime.UtcNow - started, seed, options.Encoder?.ToString(), options.Shard,
            options.On == ExecutionSite.Emulator ? null
                : [.. options.Isas.Select(isa => $"{isa.ShortName()}: {hostNotes.GetValueOrDefault(isa, "")}"
                    + (firstSkips.TryGetValue(isa, out string? why) ? $"; first case skipped on the CPU: {why}" : ""))]);
    }

    private static ICaseRunner CreateRunner(InstructionSet isa, VerifyOptions options, ConcurrentDictionary<InstructionSet, string> hostNotes)
    {
        HostCpu? host = null;
        if (options.On != ExecutionSite.Emulator)
        {
            host = HostCpu.For(isa, out string? unavailable);
            hostNotes[isa] = host is null ? $"emulator only ({unavailable})" : "emulator and this machine's CPU";
        }

        // An external encoder's answers have no plan to replay, so its runner takes the CPU itself.
        if (options.Encoder is { } command)
        {
            return new ExternalCaseRunner(isa, command, options.EncoderDeadline ?? TimeSpan.FromSeconds(5), host);
        }

        var emulated = new CaseRunner(isa);
        return host is null ? emulated : new HostCheckedRunner(emulated, host);
    }

    /// <summary>The seed as a number; checked before a run so that a malformed one is a usage error, not a failed run.</summary>
    /// <exception cref="FormatException">Not a hexadecimal number of at most 64 bits (0x optional).</exception>
    public static ulong ParseSeed(string seed) =>
        ulong.TryParse(seed.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? seed[2..] : seed, System.Globalization.NumberStyles.AllowHexSpecifier, null, out ulong value)
            ? value
            : throw new FormatException($"--seed: '{seed}' is not a seed: give the hexadecimal number a report prints (e.g. 1f2e3d), the same for every shard");

    /// <summary>
    /// The random cases: case k of the run is generated from the seed and k alone (not by CsCheck's sampling, whose
    /// sequence a seed does not replay), so the same seed gives the same cases, passing or failing, and every shard of one
    /// seed sees the same sequence and runs its own positions.
    /// </summary>
    private static void RunRandom(InstructionSet isa, ICaseRunner runner, int count, ulong seed, Shard shard, Action<CaseResult, bool> record)
    {
        var gen = RandomCases.For(isa, runner.IsReserved);
        for (int k = shard.Index - 1; k < count; k += shard.Count)
        {
            var pcg = new PCG((uint)isa, seed ^ ((ulong)k * 0x9E37_79B9_7F4A_7C15UL));
            if (runner.Adapt(gen.Generate(pcg, null, out _)) is { } c)
            {
                record(runner.Run(c), true);
            }
        }
    }

    private static int FormOrder(InstructionSet isa, string form)
    {
        var names = ReachOracle.FormNames(isa);
        int index = names.ToList().IndexOf(form);
        return index < 0 ? names.Count : index;
    }

    private sealed class Tally
    {
        private int _cases;
        private int _passed;
        private int _random;
        private int _unverified;
        private int _longer;
        private int _hostSkipped;
        private StateCounts _states;
        private readonly Lock _lock = new();

        public int Cases => _cases;

        public int Passed => _passed;

        public int Random => _random;

        public int Unverified => _unverified;

        public int Longer => _longer;

        public int HostSkipped => _hostSkipped;

        public StateCounts States
        {
            get
            {
                lock (_lock)
                {
                    return _states;
                }
            }
        }

        public void Add(bool passed, bool random, bool unverified, bool longer, bool hostSkipped, StateCounts states)
        {
            lock (_lock)
            {
                _states += states;
            }

            if (hostSkipped)
            {
                Interlocked.Increment(ref _hostSkipped);
            }

            if (longer)
            {
                Interlocked.Increment(ref _longer);
            }

            if (unverified)
            {
                Interlocked.Increment(ref _unverified);
            }

            Interlocked.Increment(ref _cases);
            if (passed)
            {
                Interlocked.Increment(ref _passed);
            }

            if (random)
            {
                Interlocked.Increment(ref _random);
            }
        }
    }
}
