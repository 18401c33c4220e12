using System.Runtime.InteropServices;
using HcrLab.Runtime;

namespace HcrLab.Scenarios;

/// <summary>
/// The child side of a scenario run: executes the steps against a real <see cref="HcrRuntime"/> in this process and
/// writes the transcript (<see cref="Transcript"/>) to standard output, where the modules print too. Judging is done
/// per step here (a step that gave what was expected reports its own text); comparing the whole transcript, and
/// surviving a crash, is the parent's job (<see cref="ScenarioRunner"/>).
/// </summary>
public sealed unsafe partial class ScenarioHost : IDisposable
{
    private readonly Scenario _scenario;
    private readonly string _versions;
    private readonly string _modules;
    private readonly TextWriter _output;
    private readonly HcrRuntime _runtime;
    private readonly Dictionary<(string Module, string Proc), nint> _seenSlots = [];

    private ScenarioHost(Scenario scenario, string workDirectory, TextWriter output)
    {
        _scenario = scenario;
        _output = output;
        _versions = Path.Combine(workDirectory, ScenarioRunner.VersionsFolder);
        _modules = Path.Combine(workDirectory, "modules");
        Directory.CreateDirectory(_modules);
        _runtime = HcrRuntime.Create(new HcrRuntimeOptions
        {
            ModuleDirectory = _modules,
            CopyDirectory = Directory.CreateDirectory(Path.Combine(workDirectory, "copies")).FullName,
            JumpTableCapacity = 4096,
        });
    }

    /// <summary>
    /// Runs the scenario in <paramref name="scenarioDirectory"/> with the module versions the parent prepared in
    /// <paramref name="workDirectory"/>; the first line of <paramref name="input"/> is the run's key
    /// (<see cref="Transcript"/>), read before any module is loaded. Returns 0 when every step ran (whether or not it
    /// matched), 2 when the host itself could not run.
    /// </summary>
    public static int Run(string scenarioDirectory, string workDirectory, TextReader input, TextWriter output)
    {
        Transcript transcript;
        try
        {
            transcript = new Transcript(input.ReadLine() ?? "");
        }
        catch (ArgumentException)
        {
            output.WriteLine($"hcrlab scenario host: standard input must start with the run's key ({Transcript.KeyLength} lowercase hex digits); this command is run by 'hcrlab scenario run'");
            return 2;
        }

        try
        {
            MakeNativeStandardOutputLineBuffered();
            var scenario = Scenario.Load(scenarioDirectory);
            using var host = new ScenarioHost(scenario, workDirectory, output);
            for (int i = 0; i < scenario.Steps.Count; i++)
            {
                output.WriteLine(transcript.StepStarted(i));
                string actual = host.Execute(scenario.Steps[i]);
                output.WriteLine(transcript.StepDone(i, actual));
            }

            output.WriteLine(transcript.End);
            return 0;
        }
        catch (Exception e)
        {
            output.WriteLine(transcript.Fault($"{e.GetType().Name}: {e.Message}"));
            return 2;
        }
    }

    public void Dispose() => _runtime.Dispose();

    private string Execute(ScenarioStep step)
    {
        try
        {
            return step switch
            {
                UseStep use => Use(use),
                StartStep start => Start(start),
                CallStep call => Call(call),
                GlobalStep global => Global(global),
                ReloadNeededStep needed => $"reload-needed -> {(_runtime.ReloadNeeded() ? "yes" : "no")}",
                ReloadStep reload => Reload(reload),
                BadCallStep badCall => BadCall(badCall),
                GenerationStep => $"generation -> {_runtime.Generation}",
                ModulesStep modules => Modules(modules),
                MainHandlersStep handlers => MainHandlers(handlers),
                _ => throw new NotSupportedException(step.GetType().Name),
            };
        }
        catch (Exception e) when (e is not NotSupportedException)
        {
            return $"{Left(step)} -> error: {OneLine(e.Message)}";
        }
    }

    private string Use(UseStep step)
    {
        string version = Path.Combine(_versions, $"{step.Module}.v{step.Version}.so");
        string target = Path.Combine(_modules, $"{step.Module}.so");
        string temporary = target + ".tmp";
        File.Copy(version, temporary, overwrite: true);
        File.Move(temporary, target, overwrite: true); // in place at once, as a build would
        return step.Text;
    }

    private string Start(StartStep step)
    {
        try
        {
            _runtime.Start(step.Imports);
            RememberSlots();
            return step.Error is null ? step.Text : Left(step);
        }
        catch (ModuleLoadException e)
        {
            return step.Error?.Matches(e.Module, e.Message) == true ? step.Text : $"{Left(step)} -> error {e.Module}: {OneLine(e.Message)}";
        }
    }

    private string Call(CallStep step)
    {
        long result;
        try
        {
            nint slot = _runtime.GetProc(step.Module, step.Proc);
            _seenSlots[(step.Module, step.Proc)] = slot;
            result = Invoke(slot, step.Arguments);
        }
        catch (HcrException e)
        {
            return step.Error?.Matches(null, e.Message) == true ? step.Text : $"{Left(step)} -> error: {OneLine(e.Message)}";
        }

        return step.Error is null && (step.Result is null || step.Result == result) ? step.Text : $"{Left(step)} -> {result}";
    }

    private string Global(GlobalStep step)
    {
        long value;
        try
        {
            value = ReadInteger(_runtime.GetGlobalSymbol(step.Module, step.Name));
        }
        catch (Exception e) when (e is HcrException or NotSupportedException)
        {
            return step.Error?.Matches(null, e.Message) == true ? step.Text : $"{Left(step)} -> error: {OneLine(e.Message)}";
        }

        return step.Value == value ? step.Text : $"{Left(step)} -> {value}";
    }

    /// <summary>
    /// A global of 1, 2, 4 or 8 bytes as a signed integer of its registered size (a <c>char</c> global is one byte: reading
    /// 8 would take in its neighbours' memory).
    /// </summary>
    /// <exception cref="NotSupportedException">Any other size.</exception>
    private static long ReadInteger(GlobalSymbol global) => global.Size switch
    {
        1 => *(sbyte*)global.Address,
        2 => *(short*)global.Address,
        4 => *(int*)global.Address,
        8 => *(long*)global.Address,
        _ => throw new NotSupportedException(
            $"global '{global.Name}' of module '{global.Module}' is {global.Size} bytes; a global step reads integers of 1, 2, 4 or 8 bytes"),
    };

    private string Reload(ReloadStep step)
    {
        ReloadResult result;
        try
        {
            result = _runtime.PerformCodeReload();
            RememberSlots();
        }
        catch (ModuleLoadException e)
        {
            return step.Expect.Error?.Matches(e.Module, e.Message) == true ? step.Text : $"reload -> error {e.Module}: {OneLine(e.Message)}";
        }

        bool matches = step.Expect.Kind switch
        {
            ReloadExpectationKind.AnyChange => result.Reloaded,
            ReloadExpectationKind.Unchanged => !result.Reloaded,
            ReloadExpectationKind.Exactly => result.Reloaded
                && result.LoadedModules.SequenceEqual(step.Expect.Loaded) && result.UnloadedModules.SequenceEqual(step.Expect.Unloaded),
            _ => false,
        };
        if (matches)
        {
            return step.Text;
        }

        return !result.Reloaded
            ? "reload -> unchanged"
            : $"reload -> loaded {string.Join(' ', result.LoadedModules)}{(result.UnloadedModules.Count > 0 ? " unloaded " + string.Join(' ', result.UnloadedModules) : "")}";
    }

    private string BadCall(BadCallStep step)
    {
        if (!_seenSlots.TryGetValue((step.Module, step.Proc), out nint slot))
        {
            return $"{step.Text} -> error: proc '{step.Proc}' of module '{step.Module}' never had a slot in this scenario";
        }

        long before = _runtime.Table.BadCallCount;
        long result = Invoke(slot, []);
        var last = _runtime.Table.LastBadCall;
        if (_runtime.Table.BadCallCount == before)
        {
            return $"{step.Text} -> returned {result}, no bad call reported";
        }

        return last is not null && last.Module == step.Module && last.Name == step.Proc && result == 0
            ? step.Text
            : $"{step.Text} -> bad call reported for proc '{last?.Name}' of module '{last?.Module}', returned {result}";
    }

    private string Modules(ModulesStep step)
    {
        string[] loaded = [.. _runtime.Modules.Where(m => !m.IsRoot && m.IsLoaded).Select(m => m.Name)];
        return loaded.SequenceEqual(step.Modules) ? step.Text : $"modules -> {(loaded.Length == 0 ? "none" : string.Join(' ', loaded))}";
    }

    private string MainHandlers(MainHandlersStep step)
    {
        _runtime.AddEventHandler(isBefore: true, () => _output.WriteLine($"{_runtime.RootModule} before"));
        _runtime.AddEventHandler(isBefore: false, () => _output.WriteLine($"{_runtime.RootModule} after"));
        return step.Text;
    }

    /// <summary>Every proc's slot after a start or reload, so a later <c>bad-call</c> can call a slot whose proc is gone.</summary>
    private void RememberSlots()
    {
        foreach (var module in _runtime.Modules)
        {
            foreach (var proc in module.Procs)
            {
                _seenSlots[(proc.Module, proc.Name)] = proc.Address;
            }
        }
    }

    private static long Invoke(nint slot, IReadOnlyList<long> a) => a.Count switch
    {
        0 => ((delegate* unmanaged<long>)slot)(),
        1 => ((delegate* unmanaged<long, long>)slot)(a[0]),
        2 => ((delegate* unmanaged<long, long, long>)slot)(a[0], a[1]),
        3 => ((delegate* unmanaged<long, long, long, long>)slot)(a[0], a[1], a[2]),
        4 => ((delegate* unmanaged<long, long, long, long, long>)slot)(a[0], a[1], a[2], a[3]),
        5 => ((delegate* unmanaged<long, long, long, long, long, long>)slot)(a[0], a[1], a[2], a[3], a[4]),
        6 => ((delegate* unmanaged<long, long, long, long, long, long, long>)slot)(a[0], a[1], a[2], a[3], a[4], a[5]),
        _ => throw new ArgumentOutOfRangeException(nameof(a), $"at most {StepsParser.MaxArguments} arguments"),
    };

    /// <summary>The step's text before its <c>-&gt;</c>: what the actual transcript repeats before what the step gave.</summary>
    private static string Left(ScenarioStep step)
    {
        int arrow = step.Text.IndexOf(" " + StepsParser.Arrow, StringComparison.Ordinal);
        return arrow < 0 ? step.Text : step.Text[..arrow];
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    /// <summary>
    /// Modules print with C stdio, which buffers a pipe fully: without line buffering, their lines would reach the
    /// parent after the host's markers (or never, if the process crashes).
    /// </summary>
    private static void MakeNativeStandardOutputLineBuffered()
    {
        const int LineBuffered = 1; // _IOLBF in glibc's stdio.h
        nint libc = NativeLibrary.Load("libc.so.6");
        nint stdoutVariable = NativeLibrary.GetExport(libc, "stdout");
        SetVBuf(*(nint*)stdoutVariable, 0, LineBuffered, 0);
    }

    [LibraryImport("libc.so.6", EntryPoint = "setvbuf")]
    private static partial int SetVBuf(nint stream, nint buffer, int mode, nuint size);
}
