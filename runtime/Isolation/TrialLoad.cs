namespace HcrLab.Runtime;

/// <summary>
/// The trial load (<see cref="ModuleTrial.Load"/>): before a copy is loaded into the host, <c>hcrtrial</c> loads and
/// unloads it in a child process. Constructors and destructors run inside <c>dlopen</c> and <c>dlclose</c>, where the
/// loader holds its lock and the fault guard must not jump out, and glibc's loader ends the process when a library's
/// tables are inconsistent: in the child, any of these ends only the child, and the load is refused. A library
/// <c>dlopen</c> refuses in the child is left for the host's own <c>dlopen</c> to judge (the host may provide symbols
/// the child lacks). Costs a process start per load.
/// </summary>
internal static class TrialLoad
{
    /// <summary>Null when the trial passed (or left the judgement to the host's dlopen), else why the library is refused.</summary>
    /// <exception cref="InvalidOperationException">hcrtrial is missing or cannot be started.</exception>
    public static string? Problem(string library)
    {
        var trial = TrialProcess.Run([library]);
        return trial.Passed(refusedItselfToo: false)
            ? null
            : $"a trial load in a child process {trial.Ending}{trial.Said}{(trial.DiedOfSignal ? ": its constructors or destructors fault" : "")}; it is not loaded into this process";
    }
}
