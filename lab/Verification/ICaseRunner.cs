using HcrLab.Encoders;

namespace HcrLab.Lab.Verification;

/// <summary>Runs the cases of one instruction set: the shipped encoders' runner, or an external encoder's. One per thread.</summary>
public interface ICaseRunner : IDisposable
{
    InstructionSet Isa { get; }

    /// <summary>True when the machinery keeps the range for itself; cases avoid it.</summary>
    bool IsReserved(ulong address, int length);

    /// <summary>The case as this runner asks it (an external encoder is never told a form), or null when the runner does not run such cases.</summary>
    JumpCase? Adapt(JumpCase c);

    CaseResult Run(JumpCase c);
}
