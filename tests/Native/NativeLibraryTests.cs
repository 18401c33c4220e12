using System.Runtime.InteropServices;

namespace HcrLab.Tests.Native;

/// <summary>
/// The runtime published with NativeAOT (<c>native/</c>): its exports, the C example, and Nim 1.6 programs running on
/// it in place of Nim's own <c>libnimhcr.so</c>. Each program's exact standard output is compared.
/// </summary>
[TestFixture]
[Category("Native")]
[NonParallelizable]
public sealed class NativeLibraryTests
{
    private static readonly string[] ReferenceEntryPoints =
    [
        "hcrRegisterProc", "hcrGetProc", "hcrRegisterGlobal", "hcrGetGlobal", "hcrInit", "hcrAddModule",
        "hcrHasModuleChanged", "hcrReloadNeeded", "hcrPerformCodeReload", "hcrAddEventHandler", "hcrGeneration",
        "hcrMarkGlobals",
    ];

    /// <summary>What include/hcrlab.h declares beyond the reference: hcrFailInit (modules' own refusal) and the hcrlab* calls.</summary>
    private static readonly string[] CLibraryEntryPoints =
    [
        "hcrFailInit", "hcrlabHasModuleChanged", "hcrlabVersion", "hcrlabLastError", "hcrlabCreate", "hcrlabInit", "hcrlabReload",
        "hcrlabRegisterThread", "hcrlabUnregisterThread", "hcrlabQuiescentState", "hcrlabThreadOffline", "hcrlabThreadOnline",
        "hcrlabCallGuarded", "hcrlabCallProcGuarded",
    ];

    private static readonly TimeSpan ProgramTimeout = TimeSpan.FromSeconds(60);

    [OneTimeSetUp]
    public void Publish() => NativeToolchain.BuildExample();

    [Test]
    public void EveryEntryPointOfTheReferenceAndOfTheHeaderIsExportedUnderItsName()
    {
        string library = Path.Combine(NativeToolchain.LibraryDirectory, "libhcrlab.so");
        // Looked up, never called: the library's own runtime stays unstarted inside the test process.
        nint handle = NativeLibrary.Load(library);
        var missing = ReferenceEntryPoints.Concat(CLibraryEntryPoints).Where(name => !NativeLibrary.TryGetExport(handle, name, out _)).ToList();

        Assert.That(missing, Is.Empty, $"{library} lacks exports");
        Assert.That(File.ResolveLinkTarget(Path.Combine(NativeToolchain.LibraryDirectory, "libnimhcr.so"), returnFinalTarget: true)?.FullName,
            Is.EqualTo(File.ResolveLinkTarget(library, returnFinalTarget: true)?.FullName),
            "libnimhcr.so and libhcrlab.so lead to one file, so one runtime serves both names");
    }

    [Test]
    public void TheCExampleRegistersRepointsStartsReloadsAndReportsARefusedReload()
    {
        var result = NativeToolchain.Run(Path.Combine(NativeToolchain.ExampleDirectory, "host"), [], NativeToolchain.ExampleDirectory,
            ProgramTimeout, new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = NativeToolchain.LibraryDirectory });

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(NativeToolchain.Lines(result.Output), Is.EqualTo(ExpectedExampleLines(NativeToolchain.ExampleDirectory)));
        Assert.That(result.Error, Is.Empty, "no call was refused but v3's reload, which the options keep off stderr");
    }

    /// <summary>
    /// examples/host.c's output run in <paramref name="directory"/>. counter v1's next adds 1, v2's adds 10, and the count
    /// lives in the runtime's global: greeter's call makes 1, the host's 2; after the reload to v2, 12 and 22; the guarded
    /// call 32; v3 refuses its init, the reload is undone (v2's before-handler sees 32, then the after-handlers of the code
    /// that stays run, as after any failed reload) and v2's next makes 42, still in generation 1.
    /// </summary>
    internal static string[] ExpectedExampleLines(string directory) =>
    [
        $"host: libhcrlab {typeof(HcrLab.Runtime.HcrRuntime).Assembly.GetName().Version!.ToString(3)}",
        "host: f(21) = 42",
        "host: re-pointed f, same slot yes, f(21) = 63",
        "host: lookup by name finds the slot: yes",
        "counter v1: count is new",
        "greeter: Init000",
        "greeter: hello C, next is 1",
        "host: next() = 2",
        "host: reload needed no",
        "host: reload needed yes",
        "counter v1: before reload, count 2",
        "counter v2: after reload, env \"kept by the closure\", changed yes",
        "host: after reload, generation 1",
        "greeter: hello again, next is 12",
        "host: reloaded yes, next() = 22, generation 1, reload needed no",
        "host: reloaded no, generation 1",
        "host: guarded next() = 32",
        "counter v2: before reload, count 32",
        "counter v2: after reload, env \"kept by the closure\", changed yes",
        "host: after reload, generation 1",
        $"host: reload refused, reloaded no: hcrlabReload: module 'counter' ({Path.Combine(directory, "counter.so")}): initialisation failed: " +
            "Init000: hcrFailInit: the module reported failure: counter v3 needs counter.conf, which is missing",
        "host: v2 runs on, next() = 42, generation 1",
    ];

    [Test]
    public void AModuleThatFaultsInItsInitIsRefusedAndTheCHostLivesOn()
    {
        // The fault guard is linked into libhcrlab.so: a C host's hcrInit of a module whose Init000 writes through NULL
        // reports the fault and returns, instead of the host dying of SIGSEGV.
        string work = FreshDirectory("fault");
        File.WriteAllText(Path.Combine(work, "host.c"), """
            #include <stdint.h>
            #include <stdio.h>
            void hcrInit(const char** imports, const char* main, const char* system, void (*mainDatInit)(void), void* handle,
                         void* (*getProcAddr)(void*, const char*));
            int64_t hcrGeneration(void);
            int main(void) {
                const char* imports[] = { "bad", "" };
                hcrInit(imports, "main", NULL, NULL, NULL, NULL);
                printf("host: alive after hcrInit, generation %ld\n", (long)hcrGeneration());
                return 0;
            }
            """);
        File.WriteAllText(Path.Combine(work, "bad.c"), """
            void HcrInit000(void* handle, void* (*getProcAddr)(void*, const char*)) { (void)handle; (void)getProcAddr; }
            void DatInit000(void) {}
            void Init000(void) { *(volatile int*)0 = 1; }
            const char** HcrGetImportedModules(void) { static const char* none[] = { "" }; return none; }
            const char* HcrGetSigHash(void) { return "bad"; }
            """);
        string[] flags = ["-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror"];
        string[][] builds =
        [
            [.. flags, "-o", "host", "host.c", $"-L{NativeToolchain.LibraryDirectory}", "-lhcrlab"],
            [.. flags, "-shared", "-fPIC", "-o", "bad.so", "bad.c"],
        ];
        foreach (string[] arguments in builds)
        {
            var build = NativeToolchain.Run("gcc", arguments, work, ProgramTimeout);
            Assert.That(build.ExitCode, Is.Zero, build.Error);
        }

        var result = NativeToolchain.Run(Path.Combine(work, "host"), [], work, ProgramTimeout,
            new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = NativeToolchain.LibraryDirectory });

        Assert.That((result.ExitCode, NativeToolchain.Lines(result.Output)), Is.EqualTo((0, new[] { "host: alive after hcrInit, generation 0" })), result.Error);
        Assert.That(result.Error, Does.Match(
            $"^hcr: hcrInit: module 'bad' \\({System.Text.RegularExpressions.Regex.Escape(Path.Combine(work, "bad.so"))}\\): initialisation failed: " +
            "Init000 faulted: SIGSEGV \\(SEGV_MAPERR: address not mapped\\) at address 0x0, pc 0x[0-9a-f]+ \\(bad\\.g0\\.\\d+\\.so\\+0x[0-9a-f]+\\); " +
            "the library stays mapped and is never unloaded \\(its code stopped halfway\\)\n$"));
    }

    [Test]
    public void ANimStringThatRunsOffItsMemoryIsRefusedAndTheHostLivesOn()
    {
        // Two pages, the second made inaccessible. A descriptor at the end of the first whose len (100) runs its bytes into
        // the second; a descriptor that is itself in the second. Read as they are, either faults in the host (the host's
        // own call: no fault guard); read through the kernel, each is refused with one line and false.
        string work = FreshDirectory("nim-string");
        File.WriteAllText(Path.Combine(work, "host.c"), """
            #include <stdbool.h>
            #include <stdint.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/mman.h>
            bool hcrHasModuleChanged(const void* moduleHash);
            int main(void) {
                char* pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (pages == MAP_FAILED || mprotect(pages + 4096, 4096, PROT_NONE) != 0) return 2;
                int64_t* runs_off = (int64_t*)(pages + 4096 - 16);
                runs_off[0] = 100;   /* len: the bytes would start at pages + 4096 */
                runs_off[1] = 100;   /* reserved (capacity) */
                printf("host: runs off its memory: changed %d\n", hcrHasModuleChanged(runs_off));
                printf("host: in unmapped memory: changed %d\n", hcrHasModuleChanged(pages + 4096));
                return 0;
            }
            """);
        var build = NativeToolchain.Run("gcc", ["-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-o", "host", "host.c", $"-L{NativeToolchain.LibraryDirectory}", "-lhcrlab"], work, ProgramTimeout);
        Assert.That(build.ExitCode, Is.Zero, build.Error);

        var result = NativeToolchain.Run(Path.Combine(work, "host"), [], work, ProgramTimeout,
            new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = NativeToolchain.LibraryDirectory });

        Assert.That((result.ExitCode, NativeToolchain.Lines(result.Output)), Is.EqualTo((0, new[]
        {
            "host: runs off its memory: changed 0", "host: in unmapped memory: changed 0",
        })), result.Error);
        const string Refused = "hcr: hcrHasModuleChanged: the argument is not a Nim 1.6 string (its length is impossible, or it runs off readable memory)";
        Assert.That(NativeToolchain.Lines(result.Error), Is.EqualTo(new[] { Refused, Refused }));
    }

    [Test]
    public void TheNimUnitProgramPrintsTheSameOnNimsRuntimeAndOnHcrLabs()
    {
        NativeToolchain.RequireNim();
        string work = FreshDirectory("unit");
        var build = NativeToolchain.Run("nim",
            ["c", "-d:useNimRtl", "--threads:on", "--hints:off", "--warnings:off", $"--nimcache:{Path.Combine(work, "cache")}",
             $"-o:{Path.Combine(work, "hcr_unit")}", Path.Combine(NativeToolchain.NimSources, "hcr_unit.nim")],
            work, TimeSpan.FromMinutes(3));
        Assert.That(build.ExitCode, Is.Zero, build.Error);

        var nim = RunOn(NativeToolchain.NimReferenceDirectory);
        var hcrLab = RunOn(NativeToolchain.NimOnHcrLabDirectory);

        Assert.That(NativeToolchain.Lines(nim.Output), Is.EqualTo(ExpectedUnitLines()), "on Nim's libnimhcr.so");
        Assert.That(NativeToolchain.Lines(hcrLab.Output), Is.EqualTo(ExpectedUnitLines()), "on HcrLab's libnimhcr.so");
        // Proof of which library answered: only HcrLab's reports the unknown proc on stderr.
        Assert.That(hcrLab.Error, Does.Contain("hcr: hcrGetProc: module 'unit_module' has no proc named 'no_such_proc'"));
        Assert.That(nim.Error, Is.Empty);

        ProcessResult RunOn(string libraries)
        {
            var result = NativeToolchain.Run(Path.Combine(work, "hcr_unit"), [], work, ProgramTimeout,
                new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = libraries });
            Assert.That(result.ExitCode, Is.Zero, $"on {libraries}: {result.Error}");
            return result;
        }
    }

    [Test]
    public void ANimHotCodeReloadingProgramReloadsOnHcrLabKeepingGlobalsAndHandlerOrder()
    {
        NativeToolchain.RequireNim();

        var hcrLab = RunReloadScenario(NativeToolchain.NimOnHcrLabDirectory, "reload-hcrlab");
        var nim = RunReloadScenario(NativeToolchain.NimReferenceDirectory, "reload-nim");

        Assert.That(hcrLab, Is.EqualTo(ExpectedReloadLines(changedInAfterHandler: true)), "on HcrLab's libnimhcr.so");
        // The one difference is a defect of the reference that HcrLab fixes: inside after-handlers Nim's runtime
        // already answers "not changed" for the module it has just reloaded.
        Assert.That(nim, Is.EqualTo(ExpectedReloadLines(changedInAfterHandler: false)), "on Nim's libnimhcr.so");
    }

    [Test]
    public void WhenNimRenamesAProcBecauseADeclarationWasAddedTheOldSlotReportsABadCall()
    {
        NativeToolchain.RequireNim();

        // Nim 1.6 numbers symbols per module: `proc helper` above `counter` renames counter and greet, so the new code
        // registers new names, the old ones are dropped, and main (not reloadable) still calls greet's old slot. On
        // Nim's runtime that slot jumps into the unloaded library; on HcrLab's it reaches the bad-call stub, which
        // names the proc and returns 0 (an empty string to Nim).
        // main's own code names the new symbols too, so the rebuild also fails to replace the running executable.
        var (lines, error) = RunReloadScenario(NativeToolchain.NimOnHcrLabDirectory, "reload-renamed", "mymod_v1_declaration_added.nim", mainChanges: true);

        Assert.That(lines, Is.EqualTo(new[]
        {
            "v1: counter 0, greeting from the v1 initializer",
            "v1: counter 1, greeting from the v1 initializer",
            "main: waiting for the rebuild",
            "main: reload needed: true",
            "mymod v1: before reload",
            "mymod v1: after reload",
            "main: after reload, mymod changed: true",
            "",
            "",
            "main: reload needed: false",
        }));
        Assert.That(error, Does.Match(@"hcr: bad call: proc 'greet__mymod_\d+___\w+' of module '\S+lib@mmymod\.nim\.c\.so' was removed"));
    }

    private static string[] ExpectedUnitLines()
    {
        var lines = new List<string> { "generation 0" };
        foreach (string convention in (string[])["nimcall", "cdecl", "stdcall", "fastcall", "noconv"])
        {
            // 7 through impl1 (x + 1), impl2 (x * 2), impl3 (x * x); every slot so far reaches the newest impl.
            lines.Add($"{convention} registration 1: 8");
            lines.Add($"{convention} registration 2: 14 14");
            lines.Add($"{convention} registration 3: 49 49 49");
            lines.Add($"{convention} one slot for every registration: true");
            lines.Add($"{convention} lookup by name finds it: true, calls 25");
        }

        lines.AddRange(
        [
            "global, first registration is new: true",
            "global starts zeroed: true",
            "global, second registration is new: false",
            "global, same block: true, value kept: 42",
            "global, lookup by name: true",
            "unknown proc: true",
            "markGlobals calls the marker: 1",
            "a registration without a marker replaces it: 1",
            "generation 0",
        ]);
        return [.. lines];
    }

    private static string[] ExpectedReloadLines(bool changedInAfterHandler) =>
    [
        "v1: counter 0, greeting from the v1 initializer",
        "v1: counter 1, greeting from the v1 initializer",
        "main: waiting for the rebuild",
        "main: reload needed: true",
        "mymod v1: before reload",
        "mymod v2: after reload",
        $"main: after reload, mymod changed: {(changedInAfterHandler ? "true" : "false")}",
        "v2: counter 1, greeting from the v1 initializer",
        "v2: counter 2, greeting from the v1 initializer",
        "main: reload needed: false",
    ];

    private static string[] RunReloadScenario(string libraries, string name) =>
        RunReloadScenario(libraries, name, "mymod_v2.nim", mainChanges: false).Lines;

    /// <summary>
    /// Builds main.nim with mymod_v1.nim as mymod.nim, starts it on the given libraries, and once it waits, puts
    /// <paramref name="newVersion"/> in place, rebuilds and lets it reload. Returns its standard output lines and stderr.
    /// When <paramref name="mainChanges"/>, the rebuild's last step (replacing the running main executable) is expected
    /// to fail with "Text file busy"; the module libraries are built before it.
    /// </summary>
    private static (string[] Lines, string Error) RunReloadScenario(string libraries, string name, string newVersion, bool mainChanges)
    {
        string work = FreshDirectory(name);
        string sources = Path.Combine(NativeToolchain.NimSources, "reload");
        File.Copy(Path.Combine(sources, "main.nim"), Path.Combine(work, "main.nim"));
        File.Copy(Path.Combine(sources, "mymod_v1.nim"), Path.Combine(work, "mymod.nim"));
        Build();

        using var program = NativeToolchain.Start(Path.Combine(work, "main"), [], work,
            new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = libraries });
        var error = program.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        try
        {
            while (lines.LastOrDefault() != "main: waiting for the rebuild")
            {
                var line = program.StandardOutput.ReadLineAsync();
                Assert.That(line.Wait(ProgramTimeout), Is.True, $"no line within {ProgramTimeout.TotalSeconds} s after {string.Join(" | ", lines)}");
                if (line.Result is null)
                {
                    Assert.Fail($"the program ended early: {string.Join(" | ", lines)}\n{error.Result}");
                }

                lines.Add(line.Result!);
            }

            File.Copy(Path.Combine(sources, newVersion), Path.Combine(work, "mymod.nim"), overwrite: true);
            Build(mainChanges);
            File.WriteAllText(Path.Combine(work, "rebuilt"), "");

            var rest = program.StandardOutput.ReadToEndAsync();
            Assert.That(program.WaitForExit(ProgramTimeout), Is.True, "the program did not end after the reload");
            lines.AddRange(NativeToolchain.Lines(rest.Result));
            Assert.That(program.ExitCode, Is.Zero, $"{string.Join(" | ", lines)}\n{error.Result}");
        }
        finally
        {
            if (!program.HasExited)
            {
                program.Kill(entireProcessTree: true);
            }
        }

        return ([.. lines], error.Result);

        void Build(bool mainIsBusy = false)
        {
            var build = NativeToolchain.Run("nim",
                ["c", "--hotCodeReloading:on", "--hints:off", "--warnings:off", $"--nimcache:{Path.Combine(work, "cache")}", "main.nim"],
                work, TimeSpan.FromMinutes(3));
            if (mainIsBusy)
            {
                Assert.That(build.Error, Does.Contain("Text file busy"), "the rebuild replaces the running main executable");
            }
            else
            {
                Assert.That(build.ExitCode, Is.Zero, build.Error);
            }
        }
    }

    private static string FreshDirectory(string name)
    {
        string directory = Path.Combine(NativeToolchain.Output, "nim", "work", name);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        return directory;
    }
}
