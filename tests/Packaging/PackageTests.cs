using HcrLab.Tests.Native;

namespace HcrLab.Tests.Packaging;

/// <summary>
/// HcrLab as a NuGet user gets it: the packages packed into a local feed, a fresh console project that references
/// <c>HcrLab.Runtime</c> from that feed and reloads a module, and the <c>hcrlab</c> tool installed from it. The feed is
/// the only package source and the package cache is this fixture's own, so nothing stale or remote is used.
/// </summary>
[TestFixture]
[Category("Packaging")]
[NonParallelizable]
public sealed class PackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    private DirectoryInfo _work = null!;
    private string _feed = null!;
    private string _version = null!;
    private Dictionary<string, string> _environment = null!;

    [OneTimeSetUp]
    public void PackIntoALocalFeed()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Ignore("HcrLab.Runtime's native assets are linux-x64 only");
        }

        // 0700, fresh and unguessable (CreateTempSubdirectory).
        _work = Directory.CreateTempSubdirectory("hcrlab-packaging-");
        _feed = Path.Combine(_work.FullName, "feed");
        _environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(_work.FullName, "packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            // No MSBuild nodes or compiler server left running after the test.
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["UseSharedCompilation"] = "false",
        };
        // The projects are built already (the tests reference them); packing what was built keeps this to seconds.
        var pack = Dotnet(["pack", Path.Combine(NativeToolchain.RepositoryRoot, "HcrLab.sln"), "-c", Configuration, "--no-build", "-o", _feed,
            "-nologo", "-v", "quiet"], NativeToolchain.RepositoryRoot, packageCache: false);
        Assert.That(pack.ExitCode, Is.Zero, $"dotnet pack failed:\n{pack.Output}\n{pack.Error}");

        string runtimePackage = Directory.GetFiles(_feed, "HcrLab.Runtime.*.nupkg").Single(file => !file.EndsWith(".snupkg", StringComparison.Ordinal));
        _version = Path.GetFileNameWithoutExtension(runtimePackage)["HcrLab.Runtime.".Length..];

        // The packages HcrLab's depend on (System.IO.Hashing) come from this machine's package folder, which the build
        // that the tests ran on restored them into: a folder of id/version/ is a local feed, and the test stays offline.
        string restored = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(_work.FullName, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="hcrlab-feed" value="{_feed}" />
                <add key="dependencies" value="{restored}" />
              </packageSources>
            </configuration>
            """);
    }

    [OneTimeTearDown]
    public void RemoveTheFeed() => _work?.Delete(recursive: true);

    [Test]
    public void ThePackagesCarryTheirMetadataAndTheRuntimeItsNativeAssets()
    {
        string[] packages = [.. Directory.GetFiles(_feed).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

        // Three packages, each with its symbols package.
        Assert.That(packages, Is.EqualTo(new[]
        {
            $"HcrLab.Encoders.{_version}.nupkg", $"HcrLab.Encoders.{_version}.snupkg",
            $"HcrLab.Runtime.{_version}.nupkg", $"HcrLab.Runtime.{_version}.snupkg",
            $"hcrlab.{_version}.nupkg", $"hcrlab.{_version}.snupkg",
        }));

        using var runtime = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_feed, $"HcrLab.Runtime.{_version}.nupkg"));
        var entries = runtime.Entries.Select(entry => entry.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.That(entries, Is.SupersetOf(new[]
        {
            "runtimes/linux-x64/native/libhcrguard.so", "runtimes/linux-x64/native/hcrtrial", "lib/net10.0/HcrLab.Runtime.dll",
            "README.md", "LICENSE",
        }));

        using var encoders = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_feed, $"HcrLab.Encoders.{_version}.nupkg"));
        Assert.That(encoders.Entries.Where(entry => entry.FullName.StartsWith("runtimes/", StringComparison.Ordinal)), Is.Empty,
            "the encoders are pure managed code");
        string nuspec = new StreamReader(encoders.GetEntry("HcrLab.Encoders.nuspec")!.Open()).ReadToEnd();
        Assert.That(nuspec, Does.Contain("<license type=\"expression\">MIT</license>").And.Contain("<readme>README.md</readme>")
            .And.Not.Contain("Package Description"));
    }

    /// <param name="publishForLinuxX64">
    /// False: a portable build, run with dotnet (the native assets stay under runtimes/linux-x64/native/ and deps.json
    /// leads there). True: dotnet publish -r linux-x64, which puts them beside the application.
    /// </param>
    [TestCase(false)]
    [TestCase(true)]
    public void AConsoleProjectThatReferencesTheRuntimePackageStartsItAndReloadsAModule(bool publishForLinuxX64)
    {
        string name = publishForLinuxX64 ? "published" : "built";
        string app = Directory.CreateDirectory(Path.Combine(_work.FullName, $"app-{name}")).FullName;
        string modules = Directory.CreateDirectory(Path.Combine(_work.FullName, $"modules-{name}")).FullName;
        BuildModule(modules, version: 1, "counter.so");
        BuildModule(modules, version: 2, "counter_v2.so");

        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="HcrLab.Runtime" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        // Trial = Load runs hcrtrial for each copy: the package's second native asset is found and runs too.
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using HcrLab.Runtime;

            string modules = args[0];
            using var runtime = HcrRuntime.Create(new HcrRuntimeOptions { ModuleDirectory = modules, Trial = ModuleTrial.Load });
            runtime.Start("counter");
            unsafe
            {
                var version = (delegate* unmanaged<long>)runtime.GetProc("counter", "version");
                Console.WriteLine($"version {version()}, generation {runtime.Generation}");
                File.Copy(Path.Combine(modules, "counter_v2.so"), Path.Combine(modules, "counter.so.new"));
                File.Move(Path.Combine(modules, "counter.so.new"), Path.Combine(modules, "counter.so"), overwrite: true);
                var result = runtime.PerformCodeReload();
                Console.WriteLine($"reloaded {result.Reloaded}, version {version()}, generation {runtime.Generation}");
            }
            """);

        string output = Path.Combine(app, "out");
        string[] build = publishForLinuxX64 ? ["publish", "-r", "linux-x64", "--self-contained", "false"] : ["build"];
        var built = Dotnet([.. build, "-c", "Release", "-o", output, "-nologo", "-v", "quiet", "--configfile", Path.Combine(_work.FullName, "nuget.config")], app);
        Assert.That(built.ExitCode, Is.Zero, $"{built.Output}\n{built.Error}");
        string assets = publishForLinuxX64 ? output : Path.Combine(output, "runtimes", "linux-x64", "native");
        Assert.That(File.Exists(Path.Combine(assets, "libhcrguard.so")) && File.Exists(Path.Combine(assets, "hcrtrial")), Is.True,
            $"the native assets are in {assets}");
        var run = Dotnet([Path.Combine(output, "app.dll"), modules], app);

        // v1's proc answers 1 after the start (generation 0); the reload re-points its slot to v2's, which answers 2, and
        // is the first effective reload (generation 1).
        Assert.That((run.ExitCode, NativeToolchain.Lines(run.Output)),
            Is.EqualTo((0, new[] { "version 1, generation 0", "reloaded True, version 2, generation 1" })), run.Error);
    }

    [Test]
    public void TheToolInstallsFromTheFeedAndEncodes()
    {
        string tools = Path.Combine(_work.FullName, "tools");
        var install = Dotnet(["tool", "install", "--tool-path", tools, "--configfile", Path.Combine(_work.FullName, "nuget.config"),
            "--version", _version, "hcrlab"], _work.FullName);
        Assert.That(install.ExitCode, Is.Zero, $"{install.Output}\n{install.Error}");

        var encode = NativeToolchain.Run(Path.Combine(tools, "hcrlab"), ["encode", "--arch", "amd64", "--at", "0x1000", "--target", "0x1010", "--format", "hex"],
            _work.FullName, StepTimeout, _environment);

        // amd64 jmp rel8 is EB cb with cb = target - (slot + 2) = 0x1010 - 0x1002 = 0x0e: the shortest form that reaches.
        Assert.That((encode.ExitCode, encode.Output), Is.EqualTo((0, "eb0e\n")), encode.Error);
    }

    /// <summary>A C module with one proc, <c>version</c>, written with the scenarios' hcr.h.</summary>
    private static void BuildModule(string directory, int version, string file)
    {
        string source = Path.Combine(directory, "counter.c");
        File.WriteAllText(source, "#include \"hcr.h\"\nHCR_PROC(int64_t, version, (void)) { return COUNTER_VERSION; }\n");
        var build = NativeToolchain.Run("gcc",
            ["-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-DHCR_MODULE=\"counter\"", $"-DCOUNTER_VERSION={version}",
             $"-I{Path.Combine(NativeToolchain.RepositoryRoot, "scenarios", "include")}", "-o", Path.Combine(directory, file), source],
            directory, StepTimeout);
        Assert.That(build.ExitCode, Is.Zero, build.Error);
    }

    private ProcessResult Dotnet(IEnumerable<string> arguments, string directory, bool packageCache = true) =>
        NativeToolchain.Run("dotnet", arguments, directory, StepTimeout,
            packageCache ? _environment : _environment.Where(pair => pair.Key != "NUGET_PACKAGES").ToDictionary());
}
