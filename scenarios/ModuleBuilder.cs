namespace HcrLab.Scenarios;

/// <summary>
/// Compiles one C file into a module's shared library with the machine's gcc (<c>-shared -fPIC -O1</c>, warnings as
/// errors), or with the compiler of another CPU (<see cref="ModuleTarget"/>). The library is written to a temporary name and moved into place, so a runtime watching the output never
/// sees half a file.
/// </summary>
public sealed class ModuleBuilder
{
    /// <summary>The flags every module is built with, before the caller's.</summary>
    public static IReadOnlyList<string> BaseFlags { get; } = ["-shared", "-fPIC", "-O1", "-std=gnu11", "-Wall", "-Werror"];

    /// <param name="compiler">The compiler to run; when null, <c>gcc</c> found on PATH.</param>
    /// <exception cref="CompilerNotFoundException">No compiler was given and gcc is not on PATH.</exception>
    public ModuleBuilder(string? compiler = null)
    {
        Compiler = compiler ?? FindCompiler() ?? throw new CompilerNotFoundException("gcc");
    }

    /// <summary>Builds modules for <paramref name="target"/>, with its compiler (<see cref="ModuleTarget.Compiler"/>).</summary>
    /// <exception cref="CompilerNotFoundException">That compiler is not on PATH.</exception>
    public ModuleBuilder(ModuleTarget target)
        : this(FindOnPath(target.Compiler) ?? throw new CompilerNotFoundException(target.Compiler))
    {
    }

    /// <summary>
    /// How long one compilation may take; past it the compiler's process group is killed and the build fails (a source
    /// that includes a FIFO or a device would otherwise keep gcc reading forever).
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The compiler's full path.</summary>
    public string Compiler { get; }

    /// <summary>gcc's full path from PATH, or null when it is not installed.</summary>
    public static string? FindCompiler() => FindOnPath("gcc");

    /// <summary>The full path of program <paramref name="name"/> on PATH, or null.</summary>
    public static string? FindOnPath(string name)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Compiles <paramref name="source"/> into <paramref name="output"/>.</summary>
    /// <param name="source">The module's C file.</param>
    /// <param name="output">The library to write.</param>
    /// <param name="flags">Flags after <see cref="BaseFlags"/>: include directories, defines.</param>
    /// <exception cref="ModuleBuildException">The compiler failed; the message holds its output.</exception>
    public void Build(string source, string output, IEnumerable<string>? flags = null)
    {
        string temporary = $"{output}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        string[] arguments = [.. BaseFlags, .. flags ?? [], "-o", temporary, source];
        string command = string.Join(' ', [Compiler, .. arguments.Select(Quote)]);
        try
        {
            var run = ChildProcess.Run(Compiler, arguments, Timeout, maxOutputChars: 1 << 20);
            string messages = (run.StandardOutput + run.StandardError).TrimEnd();
            if (run.TimedOut)
            {
                throw new ModuleBuildException(source, command, $"the compiler did not finish within {Timeout.TotalSeconds:0} s; its process group was killed", messages);
            }

            if (run.ExitCode != 0)
            {
                throw new ModuleBuildException(source, command, $"exit code {run.ExitCode}", messages);
            }

            File.Move(temporary, output, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=+,".Contains(c, StringComparison.Ordinal))
            ? argument
            : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
