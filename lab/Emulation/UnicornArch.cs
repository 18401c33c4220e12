namespace HcrLab.Lab.Emulation;

/// <summary>The Unicorn architectures the lab uses, with their <c>uc_arch</c> values from the 2.0.1 headers.</summary>
public enum UnicornArch
{
    Arm = 1,
    Arm64 = 2,
    X86 = 4,
}
