using HcrLab.Lab.Cli;

namespace HcrLab.Tests.Cli;

/// <summary>Runs <c>hcrlab</c> in-process with captured standard streams.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public string[] OutputLines => Output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');

    public static CliRun WithInput(string input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = HcrLabCli.Run(args, new StringReader(input), output, error);
        return new CliRun(exit, output.ToString(), error.ToString());
    }

    public static CliRun Of(params string[] args) => WithInput("", args);
}
