using System.Security.Cryptography;
using System.Text;
using HcrLab.Scenarios;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// Reloadable C modules for the reload benchmarks, built with gcc once and cached: module <c>m{i}</c> in two versions
/// that differ in one constant (so a reload of either is a real change of bytes). Each module registers two procs in
/// <c>DatInit000</c> and one global in <c>Init000</c>, imports nothing, and calls nothing back: the benchmarks measure
/// the runtime's part of a reload, not the modules' own work. The cache is the user's own (<see cref="PrivateFolder"/>):
/// a library found there is loaded without a rebuild, so nobody else may be able to write it.
/// </summary>
public sealed class ModuleFarm
{
    /// <summary>The module ABI by hand (see runtime/README.md); M and VERSION are defined on the gcc command line.</summary>
    private const string Source = """
        #include <stdbool.h>
        #include <stddef.h>
        #include <stdint.h>
        static void* (*hcrRegisterProc)(const char*, const char*, void*);
        static bool (*hcrRegisterGlobal)(const char*, const char*, size_t, void (*)(void), void**);
        static int64_t* counter;
        static int64_t value_actual(int64_t x) { return x + VERSION; }
        static int64_t twice_actual(int64_t x) { return 2 * x + VERSION; }
        void HcrInit000(void* handle, void* (*getProcAddr)(void*, const char*)) {
            hcrRegisterProc = getProcAddr(handle, "hcrRegisterProc");
            hcrRegisterGlobal = getProcAddr(handle, "hcrRegisterGlobal");
        }
        void DatInit000(void) {
            hcrRegisterProc(M, "value", (void*)value_actual);
            hcrRegisterProc(M, "twice", (void*)twice_actual);
        }
        void Init000(void) {
            if (hcrRegisterGlobal(M, "counter", sizeof *counter, NULL, (void**)&counter)) *counter = VERSION;
        }
        static const char* imports[] = { "" };
        const char** HcrGetImportedModules(void) { return imports; }
        const char* HcrGetSigHash(void) { return "sig-" M; }
        """;

    private static readonly Lock BuildLock = new();

    private ModuleFarm(string directory) => Directory = directory;

    /// <summary>Where the built versions are: <c>m{i}.v1.so</c> and <c>m{i}.v2.so</c>.</summary>
    public string Directory { get; }

    public static string Name(int index) => $"m{index}";

    public string VersionPath(int index, int version) => Path.Combine(Directory, $"{Name(index)}.v{version}.so");

    /// <summary>Modules m0..m{count-1} in both versions, built now unless an earlier run left them in the cache.</summary>
    /// <exception cref="CompilerNotFoundException">gcc is missing.</exception>
    /// <exception cref="ModuleBuildException">gcc failed.</exception>
    /// <exception cref="PrivateFolderException">The cache folder is not private to this user.</exception>
    public static ModuleFarm Build(int count)
    {
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Source)))[..16];
        var farm = new ModuleFarm(PrivateFolder.UserCache("perf-modules", key));
        var builder = new ModuleBuilder();
        lock (BuildLock)
        {
            string source = Path.Combine(farm.Directory, "module.c");
            if (!File.Exists(source))
            {
                File.WriteAllText(source + ".tmp", Source);
                File.Move(source + ".tmp", source, overwrite: true);
            }

            var missing = Enumerable.Range(0, count)
                .SelectMany(i => new[] { (Index: i, Version: 1), (Index: i, Version: 2) })
                .Where(m => !File.Exists(farm.VersionPath(m.Index, m.Version)))
                .ToList();
            Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, m =>
            {
                builder.Build(source, farm.VersionPath(m.Index, m.Version), [$"-DM=\"{Name(m.Index)}\"", $"-DVERSION={m.Version}"]);
            });
        }

        return farm;
    }

    /// <summary>A fresh directory holding version 1 of modules m0..m{count-1} as <c>m{i}.so</c>, ready to start a runtime over.</summary>
    public string Stage(int count)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("hcrlab-perf-stage-").FullName;
        for (int i = 0; i < count; i++)
        {
            File.Copy(VersionPath(i, 1), Path.Combine(directory, $"{Name(i)}.so"));
        }

        return directory;
    }

    /// <summary>Puts version <paramref name="version"/> of module <paramref name="index"/> in place in a staged directory, as a rebuild would (written aside, renamed over).</summary>
    public void PutInPlace(string directory, int index, int version)
    {
        string path = Path.Combine(directory, $"{Name(index)}.so");
        string temporary = path + ".tmp";
        File.Copy(VersionPath(index, version), temporary, overwrite: true);
        File.Move(temporary, path, overwrite: true);
    }
}
