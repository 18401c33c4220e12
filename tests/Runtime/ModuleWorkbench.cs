using System.Runtime.InteropServices;
using HcrLab.Runtime;
using HcrLab.Scenarios;
using NUnit.Framework;

namespace HcrLab.Tests.Runtime;

/// <summary>
/// Builds small C modules with gcc into a temp directory and runs a runtime over them. Modules export the module ABI
/// by hand on top of <see cref="Prelude"/>, and report what they do through the host's proc <c>main.log</c>, which
/// appends to <see cref="Log"/>.
/// </summary>
internal sealed unsafe class ModuleWorkbench : IDisposable
{
    /// <summary>The ABI plumbing every test module shares: runtime entry points fetched in HcrInit000, and LOG(...).</summary>
    public const string Prelude = """
        #include <stdbool.h>
        #include <stddef.h>
        #include <stdint.h>
        #include <stdio.h>
        static void* (*hcrRegisterProc)(const char*, const char*, void*);
        static void* (*hcrGetProc)(const char*, const char*);
        static bool (*hcrRegisterGlobal)(const char*, const char*, size_t, void (*)(void), void**);
        static void* (*hcrGetGlobal)(const char*, const char*);
        static void (*hcrAddEventHandler)(bool, void (*)(void));
        static int64_t (*hcrGeneration)(void);
        static bool (*hcrHasModuleChanged)(const char*);
        static void (*hcrFailInit)(const char*);
        static void (*host_log)(const char*);
        static char log_line[256];
        #define LOG(...) do { snprintf(log_line, sizeof log_line, __VA_ARGS__); host_log(log_line); } while (0)
        void HcrInit000(void* handle, void* (*getProcAddr)(void*, const char*)) {
            hcrRegisterProc = getProcAddr(handle, "hcrRegisterProc");
            hcrGetProc = getProcAddr(handle, "hcrGetProc");
            hcrRegisterGlobal = getProcAddr(handle, "hcrRegisterGlobal");
            hcrGetGlobal = getProcAddr(handle, "hcrGetGlobal");
            hcrAddEventHandler = getProcAddr(handle, "hcrAddEventHandler");
            hcrGeneration = getProcAddr(handle, "hcrGeneration");
            hcrHasModuleChanged = getProcAddr(handle, "hcrHasModuleChanged");
            hcrFailInit = getProcAddr(handle, "hcrFailInit");
            host_log = hcrGetProc("main", "log");
            LOG("%s HcrInit000", TAG);
        }

        """;

    private static readonly List<string> LogLines = [];
    private static readonly Lock LogLock = new();
    private int _builds;

    /// <param name="jumpTableCapacity">The runtime's <see cref="HcrRuntimeOptions.JumpTableCapacity"/>.</param>
    /// <param name="options">Other options of the runtime; the workbench sets the module directory and silences standard error.</param>
    public ModuleWorkbench(int jumpTableCapacity = 256, HcrRuntimeOptions? options = null)
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"hcrlab-modules-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        lock (LogLock)
        {
            LogLines.Clear();
        }

        Runtime = HcrRuntime.Create((options ?? new HcrRuntimeOptions()) with
        {
            JumpTableCapacity = jumpTableCapacity,
            ModuleDirectory = Directory,
            ReportToStandardError = false,
        });
        Runtime.RegisterProc(Runtime.RootModule, "log", (nint)(delegate* unmanaged<byte*, void>)&HostLog);
    }

    public string Directory { get; }

    public HcrRuntime Runtime { get; }

    /// <summary>What the modules logged since the last <see cref="TakeLog"/>.</summary>
    public static IReadOnlyList<string> Log
    {
        get
        {
            lock (LogLock)
            {
                return [.. LogLines];
            }
        }
    }

    public static IReadOnlyList<string> TakeLog()
    {
        lock (LogLock)
        {
            string[] lines = [.. LogLines];
            LogLines.Clear();
            return lines;
        }
    }

    /// <summary>Adds a line to the log from .NET code (the host's handlers).</summary>
    public static void LogFromHost(string line)
    {
        lock (LogLock)
        {
            LogLines.Add(line);
        }
    }

    public static void RequireGcc()
    {
        if (ModuleBuilder.FindCompiler() is null)
        {
            Assert.Ignore("gcc is not installed; module tests need it");
        }
    }

    /// <summary>
    /// Compiles version <paramref name="version"/> of module <paramref name="name"/> (<c>M</c>, <c>TAG</c> = "name.vN" and
    /// <c>VERSION</c> defined, then <see cref="Prelude"/>, then <paramref name="source"/>) with the scenarios'
    /// <see cref="ModuleBuilder"/>, which puts it in place as <c>{name}.so</c> atomically, as a build would.
    /// </summary>
    public string Build(string name, int version, string source)
    {
        string c = System.IO.Path.Combine(Directory, $"{name}.{++_builds}.c");
        string defines = $"#define M \"{name}\"\n#define TAG \"{name}.v{version}\"\n#define VERSION {version}\n";
        File.WriteAllText(c, defines + Prelude + source);
        string path = PathOf(name);
        new ModuleBuilder().Build(c, path);
        return path;
    }

    /// <summary>Replaces a module's library with bytes the dynamic loader refuses.</summary>
    public void Corrupt(string name) => File.WriteAllText(PathOf(name), string.Concat(Enumerable.Repeat("this is not an ELF file\n", 200)));

    public string PathOf(string name) => System.IO.Path.Combine(Directory, $"{name}.so");

    public long Call(string module, string proc, long argument) =>
        ((delegate* unmanaged<long, long>)Runtime.GetProc(module, proc))(argument);

    public long ReadGlobal(string module, string global) => *(long*)Runtime.GetGlobal(module, global);

    public void Dispose()
    {
        Runtime.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    [UnmanagedCallersOnly]
    private static void HostLog(byte* line)
    {
        string text;
        try
        {
            text = Marshal.PtrToStringUTF8((nint)line) ?? "(null)";
        }
        catch (NullReferenceException)
        {
            // A mutated module's pointer into the first pages: an exception must not leave an UnmanagedCallersOnly method.
            text = $"(unreadable line at 0x{(ulong)line:x})";
        }

        lock (LogLock)
        {
            LogLines.Add(text);
        }
    }
}
