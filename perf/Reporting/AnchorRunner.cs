using System.Runtime.InteropServices;
using System.Text;
using HcrLab.Runtime;

namespace HcrLab.Perf.Reporting;

/// <summary>
/// Runs the C anchor workload (perf/nim/hcrbench.c, built as libhcrbench.so) against HcrLab's runtime: the same C code
/// that measures Nim's runtime calls HcrLab's C ABI entry points, so the two are compared loop for loop. A fresh
/// runtime per "new" repetition, as the .NET benchmarks do.
/// </summary>
public static unsafe class AnchorRunner
{
    public const int Repetitions = 5;
    public const long Calls = 100_000_000;

    private static readonly List<string> Lines = [];
    private static HcrRuntime? s_runtime;

    public static int Run(string library, string output)
    {
        nint handle = NativeLibrary.Load(Path.GetFullPath(library));
        try
        {
            var run = (delegate* unmanaged<HcrApi*, byte*, int, long, nint, nint, void>)NativeLibrary.GetExport(handle, "hcrbench_run");
            var api = new HcrApi
            {
                AddModule = HcrRuntime.EntryPoint("hcrAddModule"),
                RegisterProc = HcrRuntime.EntryPoint("hcrRegisterProc"),
                GetProc = HcrRuntime.EntryPoint("hcrGetProc"),
                RegisterGlobal = HcrRuntime.EntryPoint("hcrRegisterGlobal"),
                GetGlobal = HcrRuntime.EntryPoint("hcrGetGlobal"),
                FreshRuntime = (nint)(delegate* unmanaged<void>)&FreshRuntime,
            };
            byte[] name = Encoding.UTF8.GetBytes("hcrlab\0");
            Lines.Clear();
            fixed (byte* runtimeName = name)
            {
                run(&api, runtimeName, Repetitions, Calls, (nint)(delegate* unmanaged<byte*, nint, void>)&Emit, 0);
            }

            File.WriteAllLines(output, Lines);
            foreach (string line in Lines)
            {
                Console.WriteLine(line);
            }

            return 0;
        }
        finally
        {
            s_runtime?.Dispose();
            s_runtime = null;
        }
    }

    [UnmanagedCallersOnly]
    private static void FreshRuntime()
    {
        s_runtime?.Dispose();
        s_runtime = HcrRuntime.Create(new HcrRuntimeOptions { JumpTableCapacity = 1_000_000 + 64, ReportToStandardError = false });
    }

    [UnmanagedCallersOnly]
    private static void Emit(byte* line, nint context) => Lines.Add(Marshal.PtrToStringUTF8((nint)line) ?? "");

    /// <summary>struct hcr_api of hcrbench.c, field for field.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct HcrApi
    {
        public nint AddModule;
        public nint RegisterProc;
        public nint GetProc;
        public nint RegisterGlobal;
        public nint GetGlobal;
        public nint FreshRuntime;
    }
}
