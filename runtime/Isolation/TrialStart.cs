using System.Globalization;
using System.Text;

namespace HcrLab.Runtime;

/// <summary>What a trial start runs (<see cref="ModuleTrial.Start"/>): the modules in the host's order and what the host provides.</summary>
/// <param name="Generation">What <c>hcrGeneration</c> answers.</param>
/// <param name="MaxGlobalSize">The runtime's limit on a global's size.</param>
/// <param name="Reload">A reload: the after handlers run after the passes, as in the host.</param>
/// <param name="SystemModule">The module whose passes run first, or null.</param>
/// <param name="Modules">Every module the host will run, dependencies first: its name, the copy the host loaded, and whether it is loaded now.</param>
/// <param name="HostProcs">The procs of modules without a library (the host's): module and name bytes.</param>
/// <param name="HostGlobals">The globals of modules without a library: module, name bytes and size.</param>
internal sealed record TrialPlan(
    long Generation,
    ulong MaxGlobalSize,
    bool Reload,
    string? SystemModule,
    IReadOnlyList<(string Name, string Copy, bool New)> Modules,
    IReadOnlyList<(string Module, byte[] Name)> HostProcs,
    IReadOnlyList<(string Module, byte[] Name, ulong Size)> HostGlobals)
{
    /// <summary>The plan as <c>hcrtrial --start</c> reads it: NUL-terminated fields (see <c>guard/hcrtrial.c</c>).</summary>
    public byte[] Encode()
    {
        var plan = new MemoryStream();
        void Field(ReadOnlySpan<byte> bytes)
        {
            plan.Write(bytes);
            plan.WriteByte(0);
        }

        void Text(string text) => Field(Encoding.UTF8.GetBytes(text));

        Text("generation");
        Text(Generation.ToString(CultureInfo.InvariantCulture));
        Text("max-global");
        Text(MaxGlobalSize.ToString(CultureInfo.InvariantCulture));
        if (Reload)
        {
            Text("reload");
        }

        if (SystemModule is { Length: > 0 } system)
        {
            Text("system");
            Text(system);
        }

        // A name with a NUL in it cannot be asked for through the C ABI: the child does without it.
        foreach (var (module, name) in HostProcs.Where(p => !p.Name.Contains((byte)0)))
        {
            Text("host-proc");
            Text(module);
            Field(name);
        }

        foreach (var (module, name, size) in HostGlobals.Where(g => !g.Name.Contains((byte)0)))
        {
            Text("host-global");
            Text(module);
            Field(name);
            Text(size.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var (name, copy, isNew) in Modules)
        {
            Text("module");
            Text(name);
            Text(copy);
            Text(isNew ? "1" : "0");
        }

        return plan.ToArray();
    }
}

/// <summary>
/// The trial start (<see cref="ModuleTrial.Start"/>): <c>hcrtrial --start</c> runs the start or reload the host is
/// about to run, in a child process, before the host runs any of the modules' init code. The fault guard contains
/// faults in the host only where a longjmp is safe, and cannot see a wild write that does not fault; the child can be
/// lost whole. What it cannot tell: code whose outcome depends on the real host procs and globals, on timing, or on
/// where address-space layout randomisation puts things.
/// </summary>
internal static class TrialStart
{
    private const string Mark = "hcrtrial: at ";

    /// <summary>Null when the trial passed or left the judgement to the host, else the module it was in and why it is refused.</summary>
    /// <exception cref="InvalidOperationException">hcrtrial is missing or cannot be started.</exception>
    public static (string Module, string Cause)? Problem(TrialPlan plan)
    {
        var trial = TrialProcess.Run(["--start"], plan.Encode());
        if (trial.Passed(refusedItselfToo: true))
        {
            return null;
        }

        // The last step it began: "STEP MODULE" ("Init000 a", "unload a", "after-handler b"); none before the first load.
        string mark = trial.Output.Split('\n').LastOrDefault(l => l.StartsWith(Mark, StringComparison.Ordinal))?[Mark.Length..] ?? "";
        int space = mark.IndexOf(' ');
        string module = space > 0 ? mark[(space + 1)..] : plan.Modules.FirstOrDefault(m => m.New).Name ?? plan.Modules[0].Name;
        string where = space > 0 ? $" in {(mark[..space] == "after-handler" ? "an after-reload handler" : mark[..space])}" : "";
        return (module, $"a trial start in a child process {trial.Ending}{where}{trial.Said}; none of the modules' init code ran in this process");
    }
}
