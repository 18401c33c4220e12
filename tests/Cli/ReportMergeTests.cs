using System.Text.Json;
using HcrLab.Lab.Cli;
using HcrLab.Lab.Verification;

namespace HcrLab.Tests.Cli;

/// <summary><c>verify --shard I/N</c> and <c>report merge</c>: three shards merge into the totals of the unsharded run.</summary>
[Category("Cli")]
public sealed class ReportMergeTests
{
    [Test]
    public void ThreeShardsMergeToTheTotalsOfTheUnshardedRun()
    {
        string dir = TestContext.CurrentContext.WorkDirectory;
        string id = Guid.NewGuid().ToString("N");
        string Json(string name) => Path.Combine(dir, $"merge-{id}-{name}.json");
        string[] common = ["verify", "--arch", "arm64,thumb", "--random", "300"];
        try
        {
            var whole = CliRun.Of([.. common, "--json", Json("whole")]);
            var shards = Enumerable.Range(1, 3)
                .Select(i => CliRun.Of([.. common, "--shard", $"{i}/3", "--seed", "1234", "--json", Json($"{i}")]))
                .ToList();
            var merge = CliRun.Of("report", "merge", Json("1"), Json("2"), Json("3"), "--json", Json("merged"));
            var expected = Read(Json("whole"));
            var merged = Read(Json("merged"));
            var shard1 = Read(Json("1"));

            // The matrix part of every row is fixed, so it must match row by row; the random part is spread over the forms by
            // chance (the unsharded run samples afresh), so only its total is fixed: 300.
            static Dictionary<(string, string), int> Matrix(ReportDocument d) => d.Rows.ToDictionary(r => (r.Arch, r.Form), r => r.Cases - r.Random);
            Assert.Multiple(() =>
            {
                Assert.That(shards.Select(s => s.ExitCode), Is.All.EqualTo(HcrLabCli.Success));
                Assert.That(shards[0].Output, Does.Contain("shard 1/3 of the run with seed 1234 (replay: --shard 1/3 --seed 1234)"));
                Assert.That(merge.ExitCode, Is.EqualTo(HcrLabCli.Success), merge.Output + merge.Error);
                Assert.That(shard1.Cases, Is.LessThan(expected.Cases / 2));
                Assert.That((merged.Cases, merged.Passed, merged.Failed, merged.Unverified), Is.EqualTo((expected.Cases, expected.Passed, expected.Failed, expected.Unverified)));
                Assert.That(merged.Rows.Sum(r => r.Random), Is.EqualTo(300).And.EqualTo(expected.Rows.Sum(r => r.Random)));
                Assert.That(Matrix(merged), Is.EquivalentTo(Matrix(expected)));
                Assert.That(merged.Shards, Is.EqualTo(new[] { "1/3", "2/3", "3/3" }));

                // The intermediate-state counts add up over the shards, like the cases.
                var parts = Enumerable.Range(1, 3).Select(i => Read(Json($"{i}"))).ToList();
                Assert.That(merged.Rows.Sum(r => r.States), Is.EqualTo(parts.Sum(d => d.Rows.Sum(r => r.States))).And.GreaterThan(0));
                Assert.That(merged.Rows.Sum(r => r.Quiesced), Is.EqualTo(parts.Sum(d => d.Rows.Sum(r => r.Quiesced))));
            });
        }
        finally
        {
            foreach (string file in Directory.GetFiles(dir, $"merge-{id}-*.json"))
            {
                File.Delete(file);
            }
        }
    }

    [Test]
    public void AShardRunsTheSameCasesEveryTime()
    {
        var options = new VerifyOptions([HcrLab.Encoders.InstructionSet.Thumb], 200, "abc", Shard: new Shard(2, 5));
        var first = Verifier.Run(options);
        var second = Verifier.Run(options);

        Assert.That(second.Rows, Is.EqualTo(first.Rows));
    }

    [Test]
    public void AMissingShardFailsTheMerge()
    {
        string json = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"merge-{Guid.NewGuid():N}.json");
        try
        {
            CliRun.Of("verify", "--arch", "arm", "--random", "10", "--shard", "1/2", "--seed", "7", "--json", json);
            var merge = CliRun.Of("report", "merge", json);

            Assert.Multiple(() =>
            {
                Assert.That(merge.ExitCode, Is.EqualTo(HcrLabCli.CheckFailed));
                Assert.That(merge.Error.TrimEnd(), Is.EqualTo("hcrlab report merge: shards missing: 2/2"));
            });
        }
        finally
        {
            File.Delete(json);
        }
    }

    [TestCase("0/3")]
    [TestCase("4/3")]
    [TestCase("1")]
    [TestCase("a/b")]
    public void ABadShardIsAUsageError(string shard)
    {
        var run = CliRun.Of("verify", "--arch", "arm", "--shard", shard);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Error.TrimEnd(), Is.EqualTo($"hcrlab verify: --shard: '{shard}' is not INDEX/COUNT with 1 <= INDEX <= COUNT (e.g. 2/3)"));
        });
    }

    private static ReportDocument Read(string path) => JsonSerializer.Deserialize<ReportDocument>(File.ReadAllText(path), ReportDocument.Json)!;
}
