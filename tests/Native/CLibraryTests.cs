namespace HcrLab.Tests.Native;

/// <summary>
/// libhcrlab as a C library: installed with <c>native/build.sh install</c> under a prefix, a host built with
/// <c>cc host.c $(pkg-config --cflags --libs hcrlab)</c>, and the <c>hcrlab*</c> entry points' statuses and
/// <c>hcrlabLastError</c> as <c>include/hcrlab.h</c> documents them.
/// </summary>
[TestFixture]
[Category("CLibrary")]
[NonParallelizable]
public sealed class CLibraryTests
{
    private static readonly TimeSpan ProgramTimeout = TimeSpan.FromSeconds(60);

    private DirectoryInfo _work = null!;
    private string _prefix = null!;

    [OneTimeSetUp]
    public void Install()
    {
        // 0700, fresh and unguessable (CreateTempSubdirectory).
        _work = Directory.CreateTempSubdirectory("hcrlab-c-library-");
        _prefix = Path.Combine(_work.FullName, "prefix");
        NativeToolchain.Install(_prefix);
    }

    [OneTimeTearDown]
    public void Remove() => _work?.Delete(recursive: true);

    [Test]
    public void TheInstallHasTheVersionedLibraryItsLinksTheHeaderAndAPkgConfigFile()
    {
        string lib = Path.Combine(_prefix, "lib");
        string version = typeof(HcrLab.Runtime.HcrRuntime).Assembly.GetName().Version!.ToString(3);
        string major = version.Split('.')[0];

        // The C library convention: the real file carries the whole version, the soname link the major, the
        // development link the bare name; libnimhcr.so leads to the same file for Nim programs.
        Assert.That(File.Exists(Path.Combine(lib, $"libhcrlab.so.{version}")), Is.True);
        Assert.That(new FileInfo(Path.Combine(lib, $"libhcrlab.so.{major}")).LinkTarget, Is.EqualTo($"libhcrlab.so.{version}"));
        Assert.That(new FileInfo(Path.Combine(lib, "libhcrlab.so")).LinkTarget, Is.EqualTo($"libhcrlab.so.{major}"));
        Assert.That(new FileInfo(Path.Combine(lib, "libnimhcr.so")).LinkTarget, Is.EqualTo($"libhcrlab.so.{major}"));
        Assert.That(File.Exists(Path.Combine(lib, "hcrtrial")), Is.True, "the trial loader is looked for beside the library");
        Assert.That(File.ReadAllText(Path.Combine(_prefix, "include", "hcrlab.h")),
            Does.Contain($"#define HCRLAB_ABI_VERSION {major}\n").And.Contain($"#define HCRLAB_SONAME \"libhcrlab.so.{major}\"\n"),
            "the header names the soname the library has");

        var soname = NativeToolchain.Run("readelf", ["-d", Path.Combine(lib, $"libhcrlab.so.{version}")], _work.FullName, ProgramTimeout);
        Assert.That(soname.Output, Does.Contain($"Library soname: [libhcrlab.so.{major}]"));
        var modversion = PkgConfig("--modversion");
        Assert.That(modversion.Trim(), Is.EqualTo(version));
    }

    [Test]
    public void AHostBuiltWithPkgConfigReloadsAModuleAndReportsARefusedReloadsReason()
    {
        string work = Directory.CreateDirectory(Path.Combine(_work.FullName, "example")).FullName;
        string examples = Path.Combine(NativeToolchain.RepositoryRoot, "native", "examples");
        Cc(work, $"-o host {Quote(Path.Combine(examples, "host.c"))}");
        for (int version = 1; version <= 3; version++)
        {
            Cc(work, $"-shared -fPIC -DCOUNTER_VERSION={version} -o counter_v{version}.so {Quote(Path.Combine(examples, "counter.c"))}");
        }

        Cc(work, $"-shared -fPIC -o greeter.so {Quote(Path.Combine(examples, "greeter.c"))}");

        var needed = NativeToolchain.Run("readelf", ["-d", Path.Combine(work, "host")], work, ProgramTimeout);
        Assert.That(needed.Output, Does.Contain("Shared library: [libhcrlab.so.1]"), "the host needs the soname, not the bare name");

        var result = NativeToolchain.Run(Path.Combine(work, "host"), [], work, ProgramTimeout,
            new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = Path.Combine(_prefix, "lib") });

        Assert.That((result.ExitCode, NativeToolchain.Lines(result.Output)), Is.EqualTo((0, NativeLibraryTests.ExpectedExampleLines(work))), result.Error);
    }

    [Test]
    public void EveryHcrlabCallReturnsItsStatusAndLeavesTheReasonForItsOwnThread()
    {
        string work = Directory.CreateDirectory(Path.Combine(_work.FullName, "api")).FullName;
        Cc(work, $"-pthread -o api {Quote(Path.Combine(NativeToolchain.RepositoryRoot, "tests", "Native", "c", "api.c"))}");

        var result = NativeToolchain.Run(Path.Combine(work, "api"), [], work, ProgramTimeout,
            new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = Path.Combine(_prefix, "lib") });
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        string[] lines = NativeToolchain.Lines(result.Output);

        // Statuses as hcrlab.h numbers them: OK 0, REFUSED 1, FAULT 2, INVALID_CALL 3, INVALID_ARGUMENT 4, NOT_FOUND 5.
        // A success leaves "" (so the main thread's reason survives only a failure on another thread).
        string version = typeof(HcrLab.Runtime.HcrRuntime).Assembly.GetName().Version!.ToString(3);
        string reloadBeforeInit = "hcrlabReload: nothing is started: call hcrlabInit (or hcrInit) first";
        string notRegistered = "this thread is not registered: call hcrlabRegisterThread on it first";
        Assert.That(lines, Has.Length.EqualTo(20), result.Output);
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo($"version {version}"));
            Assert.That(lines[1], Does.StartWith("create, size 1 -> 4 [hcrlabCreate: options is NULL or its size field is less than sizeof(HcrlabOptions)"));
            Assert.That(lines[2], Is.EqualTo("create -> 0 []"));
            Assert.That(lines[3], Does.StartWith("create again -> 3 [hcrlabCreate: the runtime exists already"));
            Assert.That(lines[4], Is.EqualTo($"reload before init -> 3 [{reloadBeforeInit}]"));
            Assert.That(lines[5], Is.EqualTo($"other thread: quiescent state, not registered -> 3 [hcrlabQuiescentState: {notRegistered}]"));
            Assert.That(lines[6], Is.EqualTo($"main thread's last error is still [{reloadBeforeInit}]"));
            Assert.That(lines[7], Is.EqualTo($"quiescent state, not registered -> 3 [hcrlabQuiescentState: {notRegistered}]"));
            Assert.That(lines[8], Is.EqualTo("register -> 0 []"));
            Assert.That(lines[9], Is.EqualTo("register again -> 3 [hcrlabRegisterThread: this thread is registered already, as 'main']"));
            Assert.That(lines[10..13], Is.EqualTo(new[] { "quiescent state -> 0 []", "offline -> 0 []", "online -> 0 []" }));
            Assert.That(lines[13], Does.StartWith($"init with a missing module -> 1 [hcrlabInit: module 'missing' ({Path.Combine(work, "missing.so")}): "));
            Assert.That(lines[14], Does.StartWith("guarded call of NULL -> 4 [hcrlabCallGuarded: the function pointer is NULL"));
            Assert.That(lines[15], Does.StartWith("guarded call of an unknown proc -> 5 [hcrlabCallProcGuarded: ").And.Contain("nowhere"));
            // The function reads address 16: a SIGSEGV there, contained.
            Assert.That(lines[16], Does.Match(@"^guarded call that faults -> 2 \[hcrlabCallGuarded: .*SIGSEGV.*address 0x10\b"));
            Assert.That(lines[17], Is.EqualTo("result untouched: yes"));
            Assert.That(lines[18], Is.EqualTo("unregister -> 0 []"));
            Assert.That(lines[19], Is.EqualTo($"unregister again -> 3 [hcrlabUnregisterThread: {notRegistered}]"));
        });
        Assert.That(result.Error, Is.Empty, "quiet: refusals reach the host through hcrlabLastError only");
    }

    /// <summary><c>cc ARGUMENTS $(pkg-config --cflags --libs hcrlab)</c> in <paramref name="directory"/>, as a user types it.</summary>
    private void Cc(string directory, string arguments)
    {
        var build = NativeToolchain.Run("sh", ["-c", $"cc -std=gnu11 -O1 -Wall -Wextra -Werror {arguments} $(pkg-config --cflags --libs hcrlab)"],
            directory, ProgramTimeout, PkgConfigEnvironment());
        Assert.That(build.ExitCode, Is.Zero, $"cc {arguments}:\n{build.Error}");
    }

    private string PkgConfig(string argument)
    {
        var result = NativeToolchain.Run("pkg-config", [argument, "hcrlab"], _work.FullName, ProgramTimeout, PkgConfigEnvironment());
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        return result.Output;
    }

    private Dictionary<string, string> PkgConfigEnvironment()
    {
        if (!File.Exists("/usr/bin/pkg-config"))
        {
            Assert.Ignore("pkg-config is not installed (./build.sh test installs it)");
        }

        return new Dictionary<string, string> { ["PKG_CONFIG_PATH"] = Path.Combine(_prefix, "lib", "pkgconfig") };
    }

    private static string Quote(string path) => $"'{path.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
