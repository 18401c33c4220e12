namespace HcrLab.Scenarios;

/// <summary>
/// How to start the child that hosts a scenario: a program and the arguments before the scenario folder and work folder
/// (by default <c>dotnet hcrlab.dll scenario host</c>, with hcrlab.dll next to this assembly).
/// </summary>
public sealed record HostCommand(string FileName, IReadOnlyList<string> Arguments)
{
    public const string HostAssembly = "hcrlab.dll";

    /// <summary>Variables added to the child's environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The published scenario host <paramref name="program"/> (scenarios/Host, <c>hcrlab-scenario-host</c>) for
    /// <paramref name="target"/>: run as it is on a machine of that CPU, else under the target's qemu-user, whose
    /// children (hcrtrial) go through qemu too (<c>HCRLAB_TRIAL_RUNNER</c>: no binfmt_misc is assumed).
    /// </summary>
    /// <exception cref="FileNotFoundException">The emulator is not on PATH.</exception>
    public static HostCommand ForTarget(ModuleTarget target, string program)
    {
        if (target.IsHost)
        {
            return new HostCommand(program, []);
        }

        string emulator = ModuleBuilder.FindOnPath(target.Emulator)
            ?? throw new FileNotFoundException($"{target.Emulator} is not on PATH: apt-get install qemu-user (build.sh does)", target.Emulator);
        return new HostCommand(emulator, [program])
        {
            Environment = new Dictionary<string, string> { ["QEMU_LD_PREFIX"] = target.Sysroot, ["HCRLAB_TRIAL_RUNNER"] = emulator },
        };
    }

    /// <exception cref="FileNotFoundException">hcrlab.dll is not next to this assembly.</exception>
    public static HostCommand Default()
    {
        string assembly = Path.Combine(AppContext.BaseDirectory, HostAssembly);
        if (!File.Exists(assembly))
        {
            throw new FileNotFoundException($"the scenario host {HostAssembly} is not in {AppContext.BaseDirectory}; reference the lab project or pass a HostCommand", assembly);
        }

        return new HostCommand(DotnetExecutable(), [assembly, "scenario", "host"]);
    }

    /// <summary>The dotnet muxer: this process's, if it is one; else DOTNET_HOST_PATH; else dotnet on PATH.</summary>
    public static string DotnetExecutable()
    {
        if (System.Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        if (System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return ModuleBuilder.FindOnPath("dotnet") ?? "dotnet";
    }
}
