using System.Collections.Concurrent;
using CsCheck;
using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>Options of one verification run.</summary>
/// <param name="Isas">The instruction sets to verify.</param>
/// <param name="RandomCases">Random cases in total, shared out over the instruction sets.</param>
/// <param name="Seed">A CsCheck seed that replays a reported random failure; null for fresh randomness.</param>
/// <param name="MaxFailuresKept">How many failing cases per instruction set are kept with their bytes and disassembly.</param>
public sealed record VerifyOptions(IReadOnlyList<InstructionSet> Isas, int RandomCases, string? Seed, int MaxFailuresKept = 10);

/// <summary>Runs the fixed matrix and the random cases of each instruction set, one emulator per instruction set, in parallel.</summary>
public static class Verifier
{
    /// <summary>Progress: the instruction set, cases done, cases planned.</summary>
    public delegate void ProgressHandler(InstructionSet isa, int done, int total);

    public static VerificationReport Run(VerifyOptions options, ProgressHandler? progress = null)
    {
        var started = DateTime.UtcNow;
        var tallies = new ConcurrentDictionary<(InstructionSet, string), Tally>();
        var failures = new ConcurrentBag<CaseResult>();
        var randomFailures = new ConcurrentBag<RandomFailure>();
        int randomEach = options.Isas.Count == 0 ? 0 : (options.RandomCases + options.Isas.Count - 1) / options.Isas.Count;

        Parallel.ForEach(options.Isas, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, isa =>
        {
            using var runner = new CaseRunner(isa);
            var matrix = CaseMatrix.For(isa, runner.IsReserved);
            int total = matrix.Count + randomEach;
            int done = 0;
            int kept = 0;

            void Record(CaseResult result, bool random)
            {
                tallies.GetOrAdd((isa, result.Row), _ => new Tally()).Add(result.Passed, random, result.Passed && result.Unverified is not null);
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

            if (randomEach > 0)
            {
                RunRandom(isa, runner, randomEach, options.Seed, Record, randomFailures);
            }

        });

        var rows = tallies
            .Select(t => new FormTally(t.Key.Item1, t.Key.Item2, t.Value.Cases, t.Value.Passed, t.Value.Random, t.Value.Unverified))
            .OrderBy(r => r.Isa)
            .ThenBy(r => FormOrder(r.Isa, r.Form))
            .ToList();
        var orderedFailures = failures.OrderBy(f => f.Case.Isa).ThenBy(f => f.Case.Slot).ThenBy(f => f.Case.Target).ToList();
        return new VerificationReport(rows, orderedFailures, [.. randomFailures.OrderBy(f => f.Isa)], DateTime.UtcNow - started, options.Seed);
    }

    private static void RunRandom(
        InstructionSet isa, CaseRunner runner, int count, string? seed, Action<CaseResult, bool> record, ConcurrentBag<RandomFailure> randomFailures)
    {
        // CsCheck keeps calling the predicate while it shrinks a failure; only cases before the first failure are counted.
        CaseResult? firstFailure = null;
        try
        {
            RandomCases.For(isa, runner.IsReserved).Sample(
                c =>
                {
                    var result = runner.Run(c);
                    if (firstFailure is null)
                    {
                        record(result, true);
                        if (!result.Passed)
                        {
                            firstFailure = result;
                        }
                    }

                    return result.Passed;
                },
                seed: seed,
                iter: count,
                threads: 1,
                print: c => c.ToString());
        }
        catch (CsCheckException e)
        {
            randomFailures.Add(new RandomFailure(isa, $"{e.Message} Replay: hcrlab verify --arch {isa.ShortName()} --seed {ExtractSeed(e.Message)}", firstFailure));
        }
    }

    private static string ExtractSeed(string message)
    {
        const string marker = "Set seed: \"";
        int start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
        {
            return "?";
        }

        start += marker.Length;
        int end = message.IndexOf('"', start);
        return end < 0 ? "?" : message[start..end];
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

        public int Cases => _cases;

        public int Passed => _passed;

        public int Random => _random;

        public int Unverified => _unverified;

        public void Add(bool passed, bool random, bool unverified)
        {
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
