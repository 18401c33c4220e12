namespace HcrLab.Lab.Emulation;

/// <summary>Access allowed to a mapped range (<c>uc_prot</c>).</summary>
[Flags]
public enum MemoryPermissions
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
    All = Read | Write | Execute,
}
