using System.Runtime.Versioning;
using System.Diagnostics;
using HcrLab.Perf.Infrastructure;
using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>
/// Issue 12, shared temp folders: build caches are per user, and a cache folder that anyone else could write to (where
/// a planted library would be loaded without a rebuild) is refused before anything is read from it or built into it.
/// </summary>
[UnsupportedOSPlatform("windows")]
[TestFixture]
[Category("Scenarios")]
[NonParallelizable]
public sealed class PrivateFolderTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private string _scratch = "";

    [SetUp]
    public void CreateScratch() => _scratch = Directory.CreateTempSubdirectory("hcrlab-private-folder-tests-").FullName;

    [TearDown]
    public void RemoveScratch() => Directory.Delete(_scratch, recursive: true);

    [Test]
    public void AWorldWritableBuildCacheIsRefusedAndNothingIsBuiltIntoIt()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed");
        }

        // What another user on the machine could have prepared in /tmp: the cache folder, mode 0777.
        string cache = Path.Combine(_scratch, "hcrlab-scenario-builds");
        Directory.CreateDirectory(cache);
        File.SetUnixFileMode(cache, (UnixFileMode)0x1ff);
        using var scenarios = new ScratchScenarios(("one", "a.v1.c", "#include \"hcr.h\"\nHCR_PROC(int64_t, value, (int64_t x)) { return x + 1; }"),
            ("one", "steps.hcr", "use a v1\nstart a\ncall a value 1 -> 2"));

        var result = new ScenarioRunner(scenarios.Root) { BuildCache = cache }.Run(scenarios.Folder("one"));

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Failure, Does.StartWith($"build: refusing to use {cache}: its mode is 0777: group or others may write to it (0700 expected)"));
        Assert.That(Directory.EnumerateFileSystemEntries(cache), Is.Empty, "nothing may be built into (or read from) a folder others can write");
    }

    [Test]
    public void AFolderOwnedByAnotherUserIsRefused()
    {
        if (UnixFile.EffectiveUser != 0)
        {
            Assert.Ignore("giving a folder to another user (chown) needs root; the mode check above covers the rest");
        }

        // 65534 is 'nobody' on Debian: any uid but ours shows the check.
        string folder = Path.Combine(_scratch, "theirs");
        Directory.CreateDirectory(folder, Private);
        Chown(folder, "65534");

        Assert.That(() => PrivateFolder.Ensure(folder), Throws.TypeOf<PrivateFolderException>().With.Message.StartWith(
            $"refusing to use {folder}: it is owned by user 65534, not by this user (0)"));
    }

    [Test]
    public void ASymbolicLinkInPlaceOfTheFolderIsRefusedEvenIfItPointsToAPrivateFolder()
    {
        // A link can be swapped to point elsewhere after the check; only a real directory is ours for good.
        string target = Path.Combine(_scratch, "target");
        Directory.CreateDirectory(target, Private);
        string link = Path.Combine(_scratch, "link");
        File.CreateSymbolicLink(link, target);

        Assert.That(() => PrivateFolder.Ensure(link), Throws.TypeOf<PrivateFolderException>().With.Message.StartWith(
            $"refusing to use {link}: it is a symbolic link, not a directory"));
    }

    [Test]
    public void TheUserCacheFollowsXdgCacheHomeAndIsCreated0700()
    {
        string? before = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _scratch);

            string folder = PrivateFolder.UserCache("scenario-builds");

            // The XDG Base Directory specification: $XDG_CACHE_HOME/<application>.
            Assert.That(folder, Is.EqualTo(Path.Combine(_scratch, "hcrlab", "scenario-builds")));
            Assert.That(File.GetUnixFileMode(Path.Combine(_scratch, "hcrlab")), Is.EqualTo(Private));
            Assert.That(File.GetUnixFileMode(folder), Is.EqualTo(Private));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", before);
        }
    }

    [Test]
    public void ThePerfModuleFarmCachesInTheUsersOwnCache()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed");
        }

        var farm = ModuleFarm.Build(1);

        Assert.That(farm.Directory, Does.StartWith(PrivateFolder.CacheRoot + Path.DirectorySeparatorChar));
        Assert.That(File.GetUnixFileMode(farm.Directory), Is.EqualTo(Private));
        Assert.That(File.Exists(farm.VersionPath(0, 2)), Is.True);
    }

    private static void Chown(string path, string owner)
    {
        using var chown = Process.Start("chown", [owner, path])!;
        chown.WaitForExit();
        Assert.That(chown.ExitCode, Is.Zero, "chown");
    }
}
