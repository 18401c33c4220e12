namespace HcrLab.Lab.Host;

/// <summary>What one run of a slot on this machine's CPU did.</summary>
/// <param name="Ran">True when the slot was called and returned: then <paramref name="Result"/> and <paramref name="Clobbered"/> hold.</param>
/// <param name="Result">The result register (low 32 bits).</param>
/// <param name="Clobbered">Registers the slot changed that it had to keep.</param>
/// <param name="Skipped">Why the case could not be laid out on this machine (its pages cannot be mapped there), or null.</param>
/// <param name="Problem">A fault, a loop or a hang of the helper, or null.</param>
public sealed record HostOutcome(bool Ran, uint Result, IReadOnlyList<string> Clobbered, string? Skipped, string? Problem)
{
    public bool Returned(uint expected) => Ran && Result == expected && Clobbered.Count == 0;

    public override string ToString() =>
        Skipped is not null ? $"skipped: {Skipped}"
        : Problem is not null ? Problem
        : $"returned 0x{Result:x}{(Clobbered.Count > 0 ? $", clobbered {string.Join(", ", Clobbered)}" : "")}";
}
