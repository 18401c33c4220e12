namespace HcrLab.Scenarios;

/// <summary>
/// How to start the child that hosts a scenario: a program and the arguments before the scenario folder and work folder
/// (by default <c>dotnet hcrlab.dll scenario host</c>, with hcrlab.dll next to this assembly).
/// </summary>
public sealed record HostCommand(string FileName, IReadOnlyList<string> Arguments)
{
    public const string HostAssembly = "hcrlab.dll";

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
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return ModuleBuilder.FindOnPath("dotnet") ?? "dotnet";
    }
}
