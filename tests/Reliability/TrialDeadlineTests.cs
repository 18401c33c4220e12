using System.Diagnostics;
using System.Globalization;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// The trial child's deadline holds for the whole child: its exit and the reading of its output. A module whose init
/// code leaves a process behind in a session of its own (<c>setsid</c>), holding the trial's output pipes open, must
/// not keep <see cref="HcrRuntime.PerformCodeReload"/> (and the runtime's lock) waiting past the trial's limit.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed class TrialDeadlineTests : TrialFixture
{
    private protected override ModuleTrial Trial => ModuleTrial.Start;

    [Test]
    public void AProcessLeftInASessionOfItsOwnCannotHoldAReloadPastTheTrialsLimit()
    {
        string pids = Path.Combine(Bench.Directory, "left-behind.pids");
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        // What `setsid sleep 100000 &` does, with the pid known at once: the sleep runs in a session of its own, out of
        // the trial's process group (killing the group cannot reach it), holding the trial's standard output and error.
        // Both the trial child and then this process run the init code: two such sleeps, both killed below. The init
        // code returns once the sleep runs (a close-on-exec pipe ends at the exec), so its pid names a sleep by then.
        Bench.Build("a", 2, "#include <fcntl.h>\n#include <unistd.h>\n" + ModuleReloadTests.Module(datInit: $$"""
            int execed[2];
            if (pipe(execed) != 0) return;
            fcntl(execed[1], F_SETFD, FD_CLOEXEC);
            pid_t pid = fork();
            if (pid == 0) { setsid(); execlp("sleep", "sleep", "100000", (char*)NULL); _exit(127); }
            close(execed[1]);
            char none;
            (void)read(execed[0], &none, 1);
            close(execed[0]);
            FILE* pids = fopen("{{pids}}", "a");
            fprintf(pids, "%d\n", (int)pid);
            fclose(pids);
            """));

        var reload = Task.Run(() => Runtime.PerformCodeReload());
        try
        {
            // Without a deadline on the output the reload waits for the sleep (a day). With it, the trial ends at its
            // limit at the latest (10 s, TrialProcess.Timeout), the child having passed; the rest is one load here.
            // 30 s more leaves room for two busy cores without coming near the sleep's 100,000 s.
            bool finished = reload.Wait(TrialProcess.Timeout + TimeSpan.FromSeconds(30));

            Assert.That(finished, Is.True, "the reload still waits for a process its module left behind");
            Assert.That(reload.Result.LoadedModules, Is.EqualTo(new[] { "a" }), "the child passed: what it left behind is not the host's concern");
            Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(12), "v2 answers");
        }
        finally
        {
            KillLeftBehind(pids); // before the fix this ends the trial's wait; then this process runs the init code too
            reload.Wait();
            KillLeftBehind(pids);
        }
    }

    [Test]
    public void AtTheDeadlineTheTrialsWholeProcessGroupIsKilled()
    {
        string pids = Path.Combine(Bench.Directory, "left-behind.pids");
        Bench.Build("a", 1, ModuleReloadTests.Module());
        Runtime.Start("a");
        // Init000 starts a sleep in the trial's own process group (no setsid), holding its pipes, then never returns.
        Bench.Build("a", 2, "#include <fcntl.h>\n#include <unistd.h>\n" + ModuleReloadTests.Module().Replace("void Init000(void) {", $$"""
            void Init000(void) {
                int execed[2];
                if (pipe(execed) == 0) {
                    fcntl(execed[1], F_SETFD, FD_CLOEXEC);
                    pid_t pid = fork();
                    if (pid == 0) { execlp("sleep", "sleep", "100000", (char*)NULL); _exit(127); }
                    close(execed[1]);
                    char none;
                    (void)read(execed[0], &none, 1);
                    FILE* pids = fopen("{{pids}}", "a");
                    fprintf(pids, "%d\n", (int)pid);
                    fclose(pids);
                }
                for (;;) pause();
            """, StringComparison.Ordinal));

        var reload = Task.Run(() => Runtime.PerformCodeReload());
        try
        {
            // Killing hcrtrial alone would leave the sleep holding the pipes: the reload would wait for it (a day).
            Assert.That(Finishes(reload, TrialProcess.Timeout + TimeSpan.FromSeconds(30)), Is.True, "the reload still waits for the trial's group");
            Assert.That(reload.Exception?.InnerException, Is.TypeOf<ModuleLoadException>());
            var error = (ModuleLoadException)reload.Exception!.InnerException!;
            Assert.That((error.Stage, error.Cause), Is.EqualTo((ModuleLoadStage.Trial,
                "a trial start in a child process did not finish within 10 s (code that does not return) in Init000; none of the modules' init code ran in this process")));

            // The kill was sent before the reload returned; the sleep's end follows within moments (bounded wait).
            int sleep = int.Parse(File.ReadAllLines(pids).Single(), CultureInfo.InvariantCulture);
            Assert.That(ProcessGone.Within(sleep, TimeSpan.FromSeconds(10)), Is.True, "the sleep in the trial's process group was killed with it");
            Assert.That(Bench.Call("a", "value", 10), Is.EqualTo(11), "v1 answers");
        }
        finally
        {
            KillLeftBehind(pids);
            Finishes(reload, TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>True when <paramref name="task"/> ends within <paramref name="limit"/>, whether it failed or not.</summary>
    private static bool Finishes(Task task, TimeSpan limit) => ((IAsyncResult)task).AsyncWaitHandle.WaitOne(limit);

    /// <summary>True while the process exists and is not a zombie (state Z: dead, waiting for its parent to reap it).</summary>
    /// <summary>Ends the sleeps the module started, by the pids they wrote down (and only if each is still that sleep).</summary>
    private static void KillLeftBehind(string pids)
    {
        if (!File.Exists(pids))
        {
            return;
        }

        foreach (string line in File.ReadAllLines(pids))
        {
            int pid = int.Parse(line, CultureInfo.InvariantCulture);
            string commandLine = File.Exists($"/proc/{pid}/cmdline") ? File.ReadAllText($"/proc/{pid}/cmdline") : "";
            if (commandLine.StartsWith("sleep\0100000", StringComparison.Ordinal))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (ArgumentException)
                {
                    // It ended since.
                }
            }
        }
    }
}
