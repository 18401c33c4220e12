using System.Text.Json;
using HcrLab.Lab.Cli;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Cli;

/// <summary>
/// docs/json.md's contract: every JSON output names its schema, <c>hcrlab.KIND/1</c>; a verify report holds the seed that
/// replays its run, passing or failing; a malformed seed is a usage error before anything runs.
/// </summary>
[TestFixture]
[Category("Cli")]
public sealed class JsonContractTests
{
    private static string TempJson(string name) =>
        Path.Combine(TestContext.CurrentContext.WorkDirectory, $"json-{name}-{Guid.NewGuid():N}.json");

    [Test]
    public void APassingVerifyReportHoldsTheSeedThatReplaysIt()
    {
        string first = TempJson("first");
        string second = TempJson("second");
        try
        {
            var run = CliRun.Of("verify", "--arch", "arm64,thumb", "--random", "200", "--json", first);
            using var report = JsonDocument.Parse(File.ReadAllText(first));
            string seed = report.RootElement.GetProperty("seed").GetString()!;
            var replay = CliRun.Of("verify", "--arch", "arm64,thumb", "--random", "200", "--seed", seed, "--json", second);
            using var replayed = JsonDocument.Parse(File.ReadAllText(second));

            // The random cases are spread over the forms by the seed alone: the same seed, the same cases per row.
            static string Rows(JsonDocument d) => d.RootElement.GetProperty("rows").GetRawText();
            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Output + run.Error);
                Assert.That(report.RootElement.GetProperty("schema").GetString(), Is.EqualTo("hcrlab.verify/1"));
                Assert.That(seed, Does.Match("^[0-9a-f]+$"));
                Assert.That(run.Output, Does.Contain($"seed {seed} (replay: --seed {seed})"));
                Assert.That(replayed.RootElement.GetProperty("seed").GetString(), Is.EqualTo(seed));
                Assert.That(Rows(replayed), Is.EqualTo(Rows(report)));
                Assert.That(CliRun.Of("verify", "--arch", "arm", "--random", "0").Output, Does.Not.Contain("replay"), "no random case, nothing to replay");
            });
        }
        finally
        {
            File.Delete(first);
            File.Delete(second);
        }
    }

    [TestCase("xyz")]
    [TestCase("0N0XIzNsQ0O2")]
    [TestCase("1_000")]
    [TestCase("123456789abcdef01")]
    public void AMalformedSeedIsAUsageErrorBeforeTheRun(string seed)
    {
        var run = CliRun.Of("verify", "--arch", "arm", "--random", "10", "--seed", seed);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
            Assert.That(run.Output, Is.Empty, "nothing ran");
            Assert.That(run.Error.TrimEnd(), Is.EqualTo(
                $"hcrlab verify: --seed: '{seed}' is not a seed: give the hexadecimal number a report prints (e.g. 1f2e3d), the same for every shard"));
        });
    }

    [Test]
    public void ASeedIsReportedInOneSpellingSoShardsMerge()
    {
        string first = TempJson("shard1");
        string second = TempJson("shard2");
        try
        {
            // 0x1F and 1f are the same number: the shards are of one run and merge.
            CliRun.Of("verify", "--arch", "arm", "--random", "10", "--shard", "1/2", "--seed", "0x1F", "--json", first);
            CliRun.Of("verify", "--arch", "arm", "--random", "10", "--shard", "2/2", "--seed", "1f", "--json", second);
            var merge = CliRun.Of("report", "merge", first, second);
            using var report = JsonDocument.Parse(File.ReadAllText(first));

            Assert.Multiple(() =>
            {
                Assert.That(report.RootElement.GetProperty("seed").GetString(), Is.EqualTo("1f"));
                Assert.That(merge.ExitCode, Is.EqualTo(HcrLabCli.Success), merge.Output + merge.Error);
            });
        }
        finally
        {
            File.Delete(first);
            File.Delete(second);
        }
    }

    [Test]
    public void EncodeJsonNamesItsSchema()
    {
        using var json = JsonDocument.Parse(CliRun.Of("encode", "--arch", "arm", "--at", "0x1000", "--target", "0x2000", "--format", "json").Output);

        Assert.That(json.RootElement.GetProperty("schema").GetString(), Is.EqualTo("hcrlab.encode/1"));
    }

    [Test]
    public void MergeWritesTheVerifySchemaAndRefusesADocumentWithout()
    {
        string shard = TempJson("shard");
        string merged = TempJson("merged");
        string other = TempJson("other");
        try
        {
            CliRun.Of("verify", "--arch", "arm", "--random", "10", "--shard", "1/1", "--seed", "7", "--json", shard);
            var merge = CliRun.Of("report", "merge", shard, "--json", merged);
            using var document = JsonDocument.Parse(File.ReadAllText(merged));

            // A scenario report is JSON too, but not a verify report.
            File.WriteAllText(other, """{"schema":"hcrlab.scenarios/1","passed":0,"failed":0,"scenarios":[]}""");
            var wrong = CliRun.Of("report", "merge", other);

            Assert.Multiple(() =>
            {
                Assert.That(merge.ExitCode, Is.EqualTo(HcrLabCli.Success), merge.Output + merge.Error);
                Assert.That(document.RootElement.GetProperty("schema").GetString(), Is.EqualTo("hcrlab.verify/1"));
                Assert.That(document.RootElement.GetProperty("seed").GetString(), Is.EqualTo("7"));
                Assert.That(wrong.ExitCode, Is.EqualTo(HcrLabCli.UsageError));
                Assert.That(wrong.Error.TrimEnd(), Is.EqualTo(
                    $"hcrlab report merge: {other}: the schema is 'hcrlab.scenarios/1', not 'hcrlab.verify/1' (a report of hcrlab verify --json)"));
            });
        }
        finally
        {
            File.Delete(shard);
            File.Delete(merged);
            File.Delete(other);
        }
    }

    [Test]
    [Category("Scenarios")]
    public void ScenarioRunJsonIsOneDocumentWithItsSchema()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed");
        }

        string root = ScenarioCatalog.FindRoot() ?? throw new InvalidOperationException("no scenarios/ folder above the test directory");
        string json = TempJson("scenarios");
        try
        {
            var run = CliRun.Of("scenario", "run", "no-change-reload", "--dir", root, "--json", json);
            using var document = JsonDocument.Parse(File.ReadAllText(json));
            var scenarios = document.RootElement.GetProperty("scenarios").EnumerateArray().ToList();

            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(HcrLabCli.Success), run.Output + run.Error);
                Assert.That(document.RootElement.GetProperty("schema").GetString(), Is.EqualTo("hcrlab.scenarios/1"));
                Assert.That((document.RootElement.GetProperty("passed").GetInt32(), document.RootElement.GetProperty("failed").GetInt32()), Is.EqualTo((1, 0)));
                Assert.That(scenarios.Select(s => s.GetProperty("name").GetString()), Is.EqualTo(new[] { "no-change-reload" }));
            });
        }
        finally
        {
            File.Delete(json);
        }
    }
}
