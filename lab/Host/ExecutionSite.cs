namespace HcrLab.Lab.Host;

/// <summary>Where <c>hcrlab verify --on</c> runs the cases.</summary>
public enum ExecutionSite
{
    /// <summary>In Unicorn only (the default): every CPU, on any machine.</summary>
    Emulator,

    /// <summary>On this machine's CPU, for the instruction sets it runs; the emulator still lays out each case and runs it first.</summary>
    Host,

    /// <summary>Both, with every disagreement between them a failure of its own.</summary>
    Both,
}
