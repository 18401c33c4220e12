using System.CommandLine;
using System.Text.Json;
using HcrLab.Scenarios;

namespace HcrLab.Lab.Cli;

/// <summary>
/// <c>hcrlab scenario list|run|host</c>: reload scenarios (scenarios/README.md). <c>run</c> builds each scenario's modules
/// and runs its steps in a child process, <c>hcrlab scenario host</c>, which is that child.
/// </summary>
public static class ScenarioCommand
{
    /// <summary>The <c>schema</c> of <c>scenario run --json</c>'s document (docs/json.md).</summary>
    public const string Schema = "hcrlab.scenarios/1";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Command Create(TextReader input)
    {
        var command = new Command("scenario", "Reload scenarios: C modules rebuilt and reloaded while a host keeps running, with exact expected output.")
        {
            CreateList(),
            CreateRun(),
            CreateHost(input),
        };
        return command;
    }

    private static Option<DirectoryInfo?> DirectoryOption() =>
        new("--dir") { Description = "The scenarios folder (default: scenarios/ found from the current directory, or $HCRLAB_SCENARIOS)." };

    private static Command CreateList()
    {
        var directory = DirectoryOption();
        var command = new Command("list", "List the scenarios.") { directory };
        command.SetAction(parsed =>
        {
            var output = parsed.InvocationConfiguration.Output;
            if (!TryFindRoot(parsed.GetValue(directory), parsed.InvocationConfiguration.Error, out string root))
            {
                return HcrLabCli.UsageError;
            }

            foreach (string scenario in ScenarioCatalog.List(root))
            {
                output.WriteLine(Path.GetFileName(scenario));
            }

            return HcrLabCli.Success;
        });
        return command;
    }

    private static Command CreateRun()
    {
        var names = new Argument<string[]>("names") { Description = "Scenarios to run (folder names).", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Run every scenario." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var directory = DirectoryOption();
        var arch = new Option<string>("--arch") { Description = "The CPU the modules are built for and the host runs on: host (default), x64 or arm64 (under qemu-user on another CPU).", DefaultValueFactory = _ => "host" };
        var hostProgram = new Option<FileInfo?>("--host-program") { Description = "The published scenario host for --arch (default: artifacts/scenario-host/RID/hcrlab-scenario-host beside the scenarios folder)." };
        var command = new Command("run", "Build and run scenarios; exit code 0 only when all pass.") { names, all, json, directory, arch, hostProgram };
        command.SetAction(parsed =>
        {
            var output = parsed.InvocationConfiguration.Output;
            var error = parsed.InvocationConfiguration.Error;
            string[] requested = parsed.GetValue(names) ?? [];
            if (parsed.GetValue(all) == (requested.Length > 0))
            {
                error.WriteLine("hcrlab scenario run: name one or more scenarios, or give --all");
                return HcrLabCli.UsageError;
            }

            if (!TryFindRoot(parsed.GetValue(directory), error, out string root))
            {
                return HcrLabCli.UsageError;
            }

            if (parsed.GetValue(json) is { } jsonFile && !OutputFile.CanWrite(jsonFile.FullName, out string why))
            {
                error.WriteLine($"hcrlab scenario run: cannot write --json {jsonFile.FullName}: {why}");
                return HcrLabCli.UsageError;
            }

            var available = ScenarioCatalog.List(root);
            var unknown = requested.Where(n => !available.Any(a => Path.GetFileName(a) == n)).ToList();
            if (unknown.Count > 0)
            {
                error.WriteLine($"hcrlab scenario run: no scenario named {string.Join(", ", unknown)} in {root} (see hcrlab scenario list)");
                return HcrLabCli.UsageError;
            }

            ScenarioRunner runner;
            try
            {
                var target = ModuleTarget.Parse(parsed.GetValue(arch) ?? "host");
                runner = target == (ModuleTarget.Host ?? ModuleTarget.X64) && parsed.GetValue(hostProgram) is null
                    ? new ScenarioRunner(root)
                    : new ScenarioRunner(root, HostCommand.ForTarget(target, PublishedHost(root, target, parsed.GetValue(hostProgram))))
                    {
                        Target = target,
                        Timeout = target.IsHost ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(120),
                    };
            }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException)
            {
                error.WriteLine($"hcrlab scenario run: {e.Message}");
                return HcrLabCli.UsageError;
            }

            var results = new List<ScenarioResult>();
            foreach (string scenario in requested.Length > 0 ? requested.Select(n => Path.Combine(root, n)) : available)
            {
                var result = runner.Run(scenario);
                results.Add(result);
                Write(result, output);
            }

            int passed = results.Count(r => r.Passed);
            output.WriteLine($"{results.Count} scenarios: {passed} passed, {results.Count - passed} failed");
            if (parsed.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(new
                {
                    schema = Schema,
                    passed,
                    failed = results.Count - passed,
                    scenarios = results.Select(r => new
                    {
                        name = r.Name,
                        passed = r.Passed,
                        seconds = Math.Round(r.Duration.TotalSeconds, 3),
                        failure = r.Failure,
                        diff = r.Diff,
                        transcript = r.ActualTranscript,
                        standardError = r.StandardError,
                    }),
                }, Json));
                output.WriteLine($"JSON results written to {file.FullName}");
            }

            return passed == results.Count ? HcrLabCli.Success : HcrLabCli.CheckFailed;
        });
        return command;
    }

    /// <summary>The scenario host published for <paramref name="target"/>: <paramref name="given"/>, or the one build.sh publishes beside the scenarios folder.</summary>
    /// <exception cref="FileNotFoundException">It is not there.</exception>
    private static string PublishedHost(string root, ModuleTarget target, FileInfo? given)
    {
        string path = given?.FullName ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, "artifacts", "scenario-host", target.RuntimeIdentifier, "hcrlab-scenario-host");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"no scenario host for {target} at {path}: publish it with native/build.sh scenario-host --rid {target.RuntimeIdentifier}, or give --host-program", path);
    }

    /// <summary>The child a scenario runs in; not for people (it prints the transcript protocol).</summary>
    private static Command CreateHost(TextReader input)
    {
        var scenario = new Argument<DirectoryInfo>("scenario") { Description = "The scenario folder." };
        var work = new Argument<DirectoryInfo>("work") { Description = "The work folder the parent prepared." };
        var command = new Command("host", "Run one scenario's steps in this process (the child of 'scenario run').") { scenario, work };
        command.Hidden = true;
        command.SetAction(parsed =>
            ScenarioHost.Run(parsed.GetValue(scenario)!.FullName, parsed.GetValue(work)!.FullName, input, parsed.InvocationConfiguration.Output));
        return command;
    }

    private static void Write(ScenarioResult result, TextWriter output)
    {
        output.WriteLine($"{(result.Passed ? "PASS" : "FAIL")} {result.Name} ({result.Duration.TotalSeconds:0.0} s)");
        if (result.Passed)
        {
            return;
        }

        foreach (string line in (result.Failure ?? "").Split('\n'))
        {
            output.WriteLine($"  {line}");
        }

        if (result.Diff is { } diff)
        {
            foreach (string line in diff.TrimEnd('\n').Split('\n'))
            {
                output.WriteLine($"  {line}");
            }
        }

        if (result.StandardError.Length > 0)
        {
            output.WriteLine("  standard error of the host:");
            foreach (string line in result.StandardError.TrimEnd('\n').Split('\n'))
            {
                output.WriteLine($"  | {line}");
            }
        }
    }

    private static bool TryFindRoot(DirectoryInfo? given, TextWriter error, out string root)
    {
        root = given?.FullName ?? ScenarioCatalog.FindRoot() ?? "";
        if (root.Length > 0 && Directory.Exists(root))
        {
            return true;
        }

        error.WriteLine(given is null
            ? "hcrlab scenario: no scenarios folder found (looked for scenarios/include/hcr.h from the current directory up); use --dir"
            : $"hcrlab scenario: {given.FullName} does not exist");
        return false;
    }
}
