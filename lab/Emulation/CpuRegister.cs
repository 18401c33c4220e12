namespace HcrLab.Lab.Emulation;

/// <summary>A register as the lab names it in messages, with its id in Unicorn 2.0.1's register enumeration.</summary>
public readonly record struct CpuRegister(string Name, int Id)
{
    public override string ToString() => Name;
}
