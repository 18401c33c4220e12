namespace HcrLab.Runtime;

/// <summary>
/// How much of a start or reload is first tried in a child process (<c>hcrtrial</c>), so that module code that would
/// end the host's process ends the child instead and the host refuses the modules (<see cref="HcrRuntimeOptions.Trial"/>).
/// </summary>
public enum ModuleTrial
{
    /// <summary>No trial: module code runs only in the host (under the fault guard where it can be).</summary>
    None,

    /// <summary>
    /// Each copy is loaded and unloaded in a child process before the host loads it: ELF constructors and destructors
    /// that fault, and libraries that make glibc's loader give up, are refused at <see cref="ModuleLoadStage.Load"/>.
    /// A process start per loaded copy.
    /// </summary>
    Load,

    /// <summary>
    /// <see cref="Load"/>, and then the whole start or reload is tried in one more child process before the host runs
    /// any init code: every module the host will run, the changed ones and the rest, is loaded from the copy the host
    /// loaded and put through the start's passes (a reload's after handlers too), then unloaded, against a stand-in of
    /// the C ABI in which the host's procs answer 0 and its globals are zeroed blocks. Init code, handlers and
    /// destructors that fault, abort or exit, and calls into host procs with a misaligned stack, are refused at
    /// <see cref="ModuleLoadStage.Trial"/> before they can run here. Init side effects (files, sockets, output) happen
    /// twice, and init code that depends on what the host's procs and globals really hold may take other paths in the
    /// child than here.
    /// </summary>
    Start,
}
