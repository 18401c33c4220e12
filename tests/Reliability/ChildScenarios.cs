using System.Runtime.InteropServices;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>The child-process halves of tests whose subject may kill the process (see <see cref="ReliabilityMain"/>).</summary>
internal static unsafe class ChildScenarios
{
    /// <summary>
    /// Module <c>a</c> v1 runs; v2's <c>Init000</c> writes through a NULL pointer during the reload. With the fault guard
    /// (<paramref name="containFaults"/>) the reload is refused and v1 answers again; without it the process dies.
    /// </summary>
    public static int CrashAtInit(bool containFaults)
    {
        using var bench = new ModuleWorkbench(options: new HcrRuntimeOptions { ContainFaults = containFaults });
        bench.Build("a", 1, ModuleReloadTests.Module());
        bench.Runtime.Start("a");
        Console.WriteLine($"v1 running: value(10) = {bench.Call("a", "value", 10)}");
        bench.Build("a", 2, ModuleReloadTests.Module(datInit: "").Replace("void Init000(void) {", "void Init000(void) { *(volatile int*)0 = 1;", StringComparison.Ordinal));
        Console.WriteLine("reloading a v2, whose Init000 writes through NULL");
        try
        {
            bench.Runtime.PerformCodeReload();
            Console.WriteLine($"reload returned: value(10) = {bench.Call("a", "value", 10)}");
        }
        catch (HcrException e)
        {
            Console.WriteLine($"reload refused: {e.Message}");
            Console.WriteLine($"v1 still running: value(10) = {bench.Call("a", "value", 10)}");
        }

        return 0;
    }

    /// <summary>Module <c>a</c> starts under the fault guard; then the host calls its <c>crash</c>, which writes through NULL outside any guarded call.</summary>
    public static int CrashOutsideGuard()
    {
        using var bench = new ModuleWorkbench();
        bench.Build("a", 1, ModuleReloadTests.Module(datInit: "hcrRegisterProc(M, \"crash\", (void*)crash);")
            .Replace("void DatInit000(void) {", "static int64_t crash(int64_t x) { *(volatile int64_t*)0 = x; return x; }\nvoid DatInit000(void) {", StringComparison.Ordinal));
        bench.Runtime.Start("a");
        Console.WriteLine($"started with the fault guard: value(10) = {bench.Call("a", "value", 10)}");
        Console.WriteLine("calling crash(), which writes through NULL");
        Console.WriteLine($"crash returned {bench.Call("a", "crash", 10)}");
        return 0;
    }

    /// <summary>
    /// C for a module: <c>call_misaligned(fn, a, b, c)</c> calls <c>fn(a, b, c)</c> with the stack 8 bytes off the 16-byte
    /// alignment the SysV ABI promises at a call, as a flipped bit in a <c>push</c> or <c>sub rsp</c> would leave it.
    /// </summary>
    public const string MisalignedCallSource = """
        static void* call_misaligned(void* fn, const void* a, const void* b, const void* c) {
            void* result;
            __asm__ volatile(
                "mov %%rsp, %%r12\n\t"
                "sub $128, %%rsp\n\t"      /* past the red zone */
                "and $-16, %%rsp\n\t"
                "sub $8, %%rsp\n\t"        /* 8 bytes off the alignment a call must keep */
                "call *%%rbx\n\t"
                "mov %%r12, %%rsp"
                : "=a"(result), "+D"(a), "+S"(b), "+d"(c)
                : "b"(fn)
                : "rcx", "r8", "r9", "r10", "r11", "r12", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                  "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
            return result;
        }
        """;

    /// <summary>
    /// C for a module, two functions that break the calling convention as flipped bits the fuzz found did:
    /// <c>stack_off()</c> returns with its stack pointer 64 bytes off (<c>add $0x48, %rsp</c> where its prologue
    /// subtracted 8, found in a <c>_fini</c>), so its <c>ret</c> takes a slot of a caller's frame for the return address;
    /// <c>clobbers_rbx()</c> returns with <c>rbx</c>, which the caller owns, changed (a <c>lea</c> whose register field
    /// flipped from <c>rdi</c> to <c>rbx</c>, found in <c>deregister_tm_clones</c>).
    /// </summary>
    public const string BrokenAbiSource = """
        __asm__(".text\n.type stack_off, @function\nstack_off:\n    sub $8, %rsp\n    add $0x48, %rsp\n    ret\n.size stack_off, .-stack_off\n"
                ".type clobbers_rbx, @function\nclobbers_rbx:\n    lea clobbers_rbx(%rip), %rbx\n    ret\n.size clobbers_rbx, .-clobbers_rbx\n");
        void stack_off(void);
        void clobbers_rbx(void);

        """;

    /// <summary>
    /// Module <c>a</c> registers and looks up a proc through the C ABI with the stack 8 bytes off the 16-byte alignment a
    /// call must keep (the realigning shims serve it; without them .NET's entry stub faults and the process ends).
    /// </summary>
    public static int MisalignedCall()
    {
        using var bench = new ModuleWorkbench();
        bench.Build("a", 1, MisalignedCallSource + "static int64_t twice_actual(int64_t x) { return 2 * x; }\n" + ModuleReloadTests.Module(datInit: """
            call_misaligned((void*)hcrRegisterProc, M, "twice", (void*)twice_actual);
            if (call_misaligned((void*)hcrGetProc, M, "twice", NULL) == NULL) hcrFailInit("hcrGetProc answered NULL");
            """));
        Console.WriteLine("starting a, whose DatInit000 calls the C ABI with a misaligned stack");
        bench.Runtime.Start("a");
        Console.WriteLine($"started: twice(21) = {bench.Call("a", "twice", 21)}, value(10) = {bench.Call("a", "value", 10)}");
        return 0;
    }

    /// <summary>The <see cref="HcrRuntimeOptions.Trial"/> <see cref="LoadOne"/> uses (the command line's <c>--trial</c> or <c>--trial-start</c>).</summary>
    public static ModuleTrial Trial { get; set; }

    /// <summary>
    /// Starts each file as module <c>m</c> in a fresh runtime and calls its <c>value(10)</c> under the fault guard
    /// (<see cref="HcrRuntime.CallGuarded(nint, nint, nint)"/>); prints one line per file, "N ok VALUE", "N refused
    /// STAGE: CAUSE", "N faulted FAULT" (the call faulted) or "N threw TYPE: MESSAGE". A file that kills the process
    /// prints nothing. On standard error it marks each phase as it begins ("N start", "N call", "N unload"), so the
    /// parent can say in which one a child died: the start (the loader, init code), the host's own call through the
    /// slot, or unloading.
    /// </summary>
    public static int LoadEach(string[] files)
    {
        for (int i = 0; i < files.Length; i++)
        {
            Console.WriteLine($"{i} {LoadOne(i, files[i], startOnly: false)}");
        }

        return 0;
    }

    /// <summary>
    /// One file of <see cref="LoadEach"/>: "ok VALUE", "refused STAGE: CAUSE", "faulted FAULT" or "threw TYPE:
    /// MESSAGE". With <paramref name="startOnly"/> only what the runtime does runs (the loader, then init code under the
    /// fault guard): no call of the host's through the slot, and the loaded copies are pinned with one more dlopen
    /// reference so that unloading runs none of their destructors; the answer is then "started".
    /// </summary>
    public static string LoadOne(int index, string file, bool startOnly)
    {
        // The answer is made after the runtime is disposed: unloading runs the library's code too (its destructors).
        string outcome;
        using (var bench = new ModuleWorkbench(options: new HcrRuntimeOptions { Trial = Trial }))
        {
            File.Copy(file, bench.PathOf("m"));
            try
            {
                Mark(index, "start");
                bench.Runtime.Start("m");
                if (startOnly)
                {
                    foreach (string copy in Directory.GetFiles(bench.Runtime.CopyDirectory, "*.so"))
                    {
                        NativeLibrary.Load(copy);
                    }

                    outcome = "started";
                }
                else
                {
                    Mark(index, "call");
                    outcome = "ok " + (bench.Runtime.TryGetProc("m", "value", out nint slot) ? (long)bench.Runtime.CallGuarded(slot, 10) : -1);
                }
            }
            catch (ModuleLoadException e)
            {
                outcome = $"refused {e.Stage}: {OneLine(e.Cause)}";
            }
            catch (ModuleFaultException e)
            {
                outcome = $"faulted {OneLine(e.Fault.Describe())}";
            }
            catch (Exception e)
            {
                string where = e.StackTrace?.ReplaceLineEndings("\n").Split('\n')[0].Trim() ?? "";
                outcome = $"threw {e.GetType().Name}: {OneLine(e.Message)} {where}";
            }

            Mark(index, "unload");
        }

        return outcome;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static void Mark(int file, string phase)
    {
        Console.Error.WriteLine($"{file} {phase}");
        Console.Error.Flush();
    }
}
