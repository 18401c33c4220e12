using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// Reloadable C modules for the reload benchmarks, built with gcc once and cached: module <c>m{i}</c> in two versions
/// that differ in one constant (so a reload of either is a real change of bytes). Each module registers two procs in
/// <c>DatInit000</c> and one global in <c>Init000</c>, imports nothing, and calls nothing back: the benchmarks measure
/// the runtime's part of a reload, not the modules' own work.
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
    /// <exception cref="InvalidOperationException">gcc is missing or failed.</exception>
    public static ModuleFarm Build(int count)
    {
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Source)))[..16];
        var farm = new ModuleFarm(Path.Combine(Path.GetTempPath(), "hcrlab-perf-modules", key));
        System.IO.Directory.CreateDirectory(farm.Directory);
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
                string output = farm.VersionPath(m.Index, m.Version);
                string temporary = $"{output}.{Environment.ProcessId}.tmp";
                Gcc("-shared", "-fPIC", "-O1", "-Wall", "-Werror", $"-DM=\"{Name(m.Index)}\"", $"-DVERSION={m.Version}", "-o", temporary, source);
                File.Move(temporary, output, overwrite: true);
            });
        }

        return farm;
    }

    /// <summary>A fresh directory holding version 1 of modules m0..m{count-1} as <c>m{i}.so</c>, ready to start a runtime over.</summary>
    public string Stage(int count)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"hcrlab-perf-stage-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
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

    private static void Gcc(params string[] arguments)
    {
        var start = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"gcc failed ({process.ExitCode}): {errors}");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("the reload benchmarks build C modules with gcc, which is not installed (apt-get install -y gcc)", e);
        }
    }
}
