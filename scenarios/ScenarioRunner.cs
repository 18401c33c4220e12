using System.Globalization;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace HcrLab.Scenarios;

/// <summary>
/// The parent side of a scenario run: builds every module version the steps use, runs the steps in a child process
/// (<see cref="ScenarioHost"/>, started by <see cref="HostCommand"/>) and compares the child's transcript with the
/// expected one. A child that crashes or hangs is a failed scenario with its output so far, not the end of the run.
/// </summary>
public sealed class ScenarioRunner
{
    /// <summary>The work folder's subfolder holding each version's library as <c>a.v2.so</c>.</summary>
    public const string VersionsFolder = "versions";

    /// <summary>The largest module source (or hcr.h) read to compute a build's key.</summary>
    public const long MaxSourceBytes = 4 << 20;

    /// <summary>
    /// Lines a step may print beyond those it expects; past them the rest is dropped and the scenario fails with
    /// "output truncated" (a module printing without end would otherwise cost memory and a slow diff).
    /// </summary>
    public const int MaxExtraOutputLinesPerStep = 1000;

    /// <summary>Characters of the host's standard output (and, separately, standard error) read at most.</summary>
    public const int MaxHostOutputChars = 16 << 20;

    /// <summary>The largest prebuilt library taken from a scenario folder.</summary>
    public const long MaxLibraryBytes = 256 << 20;

    private readonly HostCommand _host;
    private readonly string _include;
    private ModuleBuilder? _builder;

    /// <param name="scenariosRoot">The scenarios folder (its <c>include/</c> holds hcr.h).</param>
    /// <param name="host">How to start the child; <see cref="HostCommand.Default"/> when null.</param>
    /// <exception cref="FileNotFoundException">The folder has no include/hcr.h, or the host is not found.</exception>
    public ScenarioRunner(string scenariosRoot, HostCommand? host = null)
    {
        _include = ScenarioCatalog.IncludeDirectory(scenariosRoot);
        if (!File.Exists(Path.Combine(_include, "hcr.h")))
        {
            throw new FileNotFoundException($"{Path.GetFullPath(scenariosRoot)} is not a scenarios folder: it has no include/hcr.h", Path.Combine(_include, "hcr.h"));
        }

        _host = host ?? HostCommand.Default();
    }

    /// <summary>The CPU the modules are built for (the host's by default); the host command must run that CPU's code.</summary>
    public ModuleTarget Target { get; init; } = ModuleTarget.Host ?? ModuleTarget.X64;

    /// <summary>How long one scenario's child may run.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where built libraries are kept, keyed by a hash of source, header and flags, so a rerun builds nothing new; null
    /// (the default) for <c>scenario-builds</c> in the user's cache (<see cref="PrivateFolder.UserCache"/>). The folder
    /// must be private to this user (checked before every use): a library found there is loaded without a rebuild.
    /// </summary>
    public string? BuildCache { get; init; }

    public ScenarioResult Run(string scenarioDirectory)
    {
        var clock = Stopwatch.StartNew();
        string name = Path.GetFileName(Path.GetFullPath(scenarioDirectory));
        Scenario scenario;
        try
        {
            scenario = Scenario.Load(scenarioDirectory);
        }
        catch (Exception e) when (e is StepsFileException or FileNotFoundException or UnreadableFileException)
        {
            return ScenarioResult.Failed(name, clock.Elapsed, $"steps file: {e.Message}");
        }

        // A fresh folder with a random name, created 0700: nobody else can put a library where the host loads from.
        string work = Directory.CreateTempSubdirectory($"hcrlab-scenario-{name}-").FullName;
        try
        {
            try
            {
                PrepareVersions(scenario, Path.Combine(work, VersionsFolder));
            }
            catch (Exception e) when (e is ModuleBuildException or CompilerNotFoundException or ScenarioFileException or PrivateFolderException or UnreadableFileException)
            {
                return ScenarioResult.Failed(name, clock.Elapsed, $"build: {e.Message}");
            }

            return RunHost(scenario, work, clock);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // A crashed host may leave files behind in the temp folder; they are not loaded from again.
            }
        }
    }

    /// <summary>Builds <c>a.vK.c</c> (or takes <c>a.vK.so</c> as it is) for every version a <c>use</c> step names.</summary>
    private void PrepareVersions(Scenario scenario, string versions)
    {
        Directory.CreateDirectory(versions);
        foreach (var use in scenario.Versions)
        {
            string stem = $"{use.Module}.v{use.Version}";
            string source = Path.Combine(scenario.Directory, stem + ".c");
            string prebuilt = Path.Combine(scenario.Directory, stem + ".so");
            string target = Path.Combine(versions, stem + ".so");
            if (File.Exists(source))
            {
                File.Copy(Build(use.Module, use.Version, source), target);
            }
            else if (File.Exists(prebuilt))
            {
                BoundedFile.Copy(prebuilt, target, MaxLibraryBytes);
            }
            else
            {
                throw new ScenarioFileException($"{scenario.Name}/{Scenario.StepsFileName}:{use.Line}: '{use.Text}' needs {stem}.c or {stem}.so in {scenario.Directory}");
            }
        }
    }

    private string Build(string module, int version, string source)
    {
        string[] flags = ["-I", _include, $"-DHCR_MODULE=\"{module}\"", $"-DHCR_VERSION={version}"];
        string header = Path.Combine(_include, "hcr.h");
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', [Target.Name, .. ModuleBuilder.BaseFlags, .. flags, BoundedFile.ReadAllText(header, MaxSourceBytes), BoundedFile.ReadAllText(source, MaxSourceBytes)]))))[..24];
        string cache = BuildCache is null ? PrivateFolder.UserCache("scenario-builds") : PrivateFolder.Ensure(BuildCache);
        string output = Path.Combine(cache, $"{module}.v{version}.{key}.so");
        if (!File.Exists(output))
        {
            _builder ??= new ModuleBuilder(Target);
            _builder.Build(source, output, flags);
        }

        return output;
    }

    private ScenarioResult RunHost(Scenario scenario, string work, Stopwatch clock)
    {
        // The key goes on standard input, which the host reads before it loads any module (see Transcript).
        string key = Transcript.NewKey();
        var child = ChildProcess.Run(_host.FileName, [.. _host.Arguments, scenario.Directory, work], Timeout, input: key + "\n",
            maxOutputChars: MaxHostOutputChars,
            environment: new Dictionary<string, string>(_host.Environment) { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" });
        bool exited = !child.TimedOut;
        string standardError = child.StandardError;
        var run = HostRun.Read(child.StandardOutput.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'), scenario, new Transcript(key));
        var expected = scenario.ExpectedTranscript;
        var actual = run.Transcript;
        string? ending = !exited
            ? $"the host did not finish within {Timeout.TotalSeconds:0} s{run.DuringStep(scenario)}; it was killed"
            : run.Fault is { } fault
                ? $"the host failed: {fault}"
                : !run.Ended || child.ExitCode != 0
                    ? $"the host died ({DescribeExit(child.ExitCode ?? 0)}){run.DuringStep(scenario)}"
                    : run.Truncated is { } step
                        ? $"output truncated: {Describe(scenario, step)} printed more than {AllowedOutputLines(scenario, step)} lines"
                        : child.Truncated
                            ? string.Create(CultureInfo.InvariantCulture, $"output truncated: the host wrote more than {MaxHostOutputChars:N0} characters")
                            : run.Completed != scenario.Steps.Count
                        ? $"the host ended after {run.Completed} of {scenario.Steps.Count} steps"
                        : null;
        if (ending is not null)
        {
            actual = [.. actual, $"!! {ending}"];
        }

        bool same = expected.SequenceEqual(actual);
        string? diff = same ? null : UnifiedDiff.Create(expected, actual, $"{scenario.Name}/{Scenario.StepsFileName} (expected)", "actual");
        string? failure = ending ?? (same ? null : "the transcript differs from the steps file (diff below)");
        return new ScenarioResult(scenario.Name, failure is null, clock.Elapsed, failure, diff, actual, standardError);
    }

    private static string DescribeExit(int code)
    {
        if (code <= 128)
        {
            return $"exit code {code}";
        }

        int signal = code - 128;
        string name = signal switch
        {
            4 => "SIGILL",
            6 => "SIGABRT",
            7 => "SIGBUS",
            8 => "SIGFPE",
            9 => "SIGKILL",
            11 => "SIGSEGV",
            _ => $"signal {signal}",
        };
        return $"exit code {code}, {name}";
    }

    /// <summary>The child's standard output, read back: the actual transcript, how far it got and how it ended.</summary>
    private static int AllowedOutputLines(Scenario scenario, int step) =>
        (step < scenario.Steps.Count ? scenario.Steps[step].ExpectedOutput.Count : 0) + MaxExtraOutputLinesPerStep;

    private static string Describe(Scenario scenario, int step) =>
        $"step {step + 1}, {scenario.Name}/{Scenario.StepsFileName}:{scenario.Steps[step].Line}: {scenario.Steps[step].Text}";

    private sealed record HostRun(IReadOnlyList<string> Transcript, int LastStarted, bool LastDone, int Completed, bool Ended, string? Fault, int? Truncated)
    {
        /// <summary>
        /// Lines that start with this run's marker are the host's; the rest are the modules' output. The host's lines
        /// must come in order (step 0 started, done, step 1 started, ...): anything else ends the reading with a fault,
        /// never an index out of range.
        /// </summary>
        public static HostRun Read(IReadOnlyList<string> lines, Scenario scenario, Transcript protocol)
        {
            var transcript = new List<string>();
            int started = -1, stepAt = -1, completed = 0, printed = 0;
            int? truncated = null;
            bool done = true, ended = false;
            string? fault = null;
            foreach (string line in lines)
            {
                if (!line.StartsWith(protocol.Marker, StringComparison.Ordinal))
                {
                    // Output before the first step counts against the first step.
                    int step = Math.Max(started, 0);
                    if (printed >= AllowedOutputLines(scenario, step))
                    {
                        truncated ??= step;
                    }
                    else if (line.Length > 0 || transcript.Count > 0 || started >= 0)
                    {
                        transcript.Add(Scenarios.Transcript.OutputLine(line));
                        printed++;
                    }

                    continue;
                }

                string[] parts = line[protocol.Marker.Length..].Split(' ', 3);
                int index = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) ? parsed : -1;
                switch (parts[0])
                {
                    case "step" when parts.Length == 2 && done && !ended && index == started + 1 && index < scenario.Steps.Count:
                        // The step's line goes before the output it prints; it is replaced by what the step gave when it is done.
                        started = index;
                        printed = index == 0 ? printed : 0;
                        stepAt = transcript.Count;
                        done = false;
                        transcript.Add(scenario.Steps[index].Text);
                        break;
                    case "done" when parts.Length == 3 && !done && index == started:
                        transcript[stepAt] = parts[2];
                        done = true;
                        completed++;
                        break;
                    case "end" when parts.Length == 1 && done:
                        ended = true;
                        break;
                    case "fault":
                        fault = line[(protocol.Marker.Length + "fault".Length)..].Trim();
                        break;
                    default:
                        string shown = line.Length <= 200 ? line : line[..200] + "...";
                        return new HostRun(transcript, started, done, completed, false, $"a protocol line out of order or malformed: '{shown}' (after step {started + 1} of {scenario.Steps.Count})", truncated);
                }
            }

            return new HostRun(transcript, started, done, completed, ended, fault, truncated);
        }

        public string DuringStep(Scenario scenario) => LastStarted < 0 || LastDone ? "" : $" during {Describe(scenario, LastStarted)}";
    }
}
