namespace HcrLab.Runtime;

/// <summary>
/// Something a module asked of the runtime through the C ABI that the runtime refused or could not answer (the C ABI
/// answers NULL or false instead of throwing). <see cref="FailsLoad"/> is true when it happened during a start or reload
/// and makes that load fail.
/// </summary>
public sealed class HcrDiagnosticEventArgs(string message, bool failsLoad) : EventArgs
{
    /// <summary>What was refused or could not be answered, in words.</summary>
    public string Message { get; } = message;

    /// <summary>True when it happened during a start or reload and makes that load fail.</summary>
    public bool FailsLoad { get; } = failsLoad;
}
