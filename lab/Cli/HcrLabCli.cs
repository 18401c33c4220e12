using System.CommandLine;

namespace HcrLab.Lab.Cli;

/// <summary>The <c>hcrlab</c> command line. Exit codes: 0 success, 1 a check failed or an input cannot be encoded, 2 bad usage, 3 a native library is missing.</summary>
public static class HcrLabCli
{
    public const int Success = 0;
    public const int CheckFailed = 1;
    public const int UsageError = 2;
    public const int MissingLibrary = 3;

    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var root = new RootCommand(
            "HcrLab: jump encoders for i386, amd64, arm (A32 and Thumb-2) and arm64, proven by running them in Unicorn-emulated CPUs "
            + "and decoding them with Capstone and Iced; and reload scenarios run against the hot code reloading runtime.")
        {
            VerifyCommand.Create(),
            EncodeCommand.Create(input),
            ScenarioCommand.Create(input),
            ReportCommand.Create(),
        };

        var parsed = root.Parse(args);
        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
