using System.Runtime.InteropServices;

namespace HcrLab.Scenarios;

/// <summary>
/// A CPU that modules are built for, as data: its name, the architecture it is, the cross compiler that builds for it
/// from another CPU (Debian's <c>gcc-*-linux-gnu</c> packages), and the ELF machine its libraries carry. On a machine
/// of that CPU the compiler is plain <c>gcc</c>.
/// </summary>
/// <param name="Name">The name used on command lines and in messages.</param>
/// <param name="Architecture">The CPU, as .NET names it.</param>
/// <param name="CrossCompiler">The compiler that builds for this CPU on any other.</param>
/// <param name="ElfMachine">e_machine of the libraries it builds (the ELF specification's EM_ values).</param>
/// <param name="Emulator">The qemu-user program that runs this CPU's programs on another (Debian's qemu-user).</param>
/// <param name="Sysroot">Where Debian's cross packages put this CPU's loader and C library (qemu's QEMU_LD_PREFIX).</param>
/// <param name="RuntimeIdentifier">The .NET runtime identifier a program for this CPU is published for.</param>
public sealed record ModuleTarget(string Name, Architecture Architecture, string CrossCompiler, ushort ElfMachine,
    string Emulator, string Sysroot, string RuntimeIdentifier)
{
    /// <summary>x86-64: EM_X86_64 = 62.</summary>
    public static ModuleTarget X64 { get; } = new("x64", Architecture.X64, "x86_64-linux-gnu-gcc", 62, "qemu-x86_64", "/usr/x86_64-linux-gnu", "linux-x64");

    /// <summary>arm64 (AArch64): EM_AARCH64 = 183.</summary>
    public static ModuleTarget Arm64 { get; } = new("arm64", Architecture.Arm64, "aarch64-linux-gnu-gcc", 183, "qemu-aarch64", "/usr/aarch64-linux-gnu", "linux-arm64");

    /// <summary>Every CPU modules can be built for.</summary>
    public static IReadOnlyList<ModuleTarget> All { get; } = [X64, Arm64];

    /// <summary>The CPU this process runs on, or null when modules cannot be built for it.</summary>
    public static ModuleTarget? Host { get; } = All.FirstOrDefault(target => target.Architecture == RuntimeInformation.ProcessArchitecture);

    /// <summary>Whether this machine is of this CPU (modules are then built with plain gcc and run natively).</summary>
    public bool IsHost => Host == this;

    /// <summary>The compiler that builds for this CPU here: gcc on a machine of this CPU, else the cross compiler.</summary>
    public string Compiler => IsHost ? "gcc" : CrossCompiler;

    /// <summary>The target called <paramref name="name"/> (<c>host</c> is this machine's CPU).</summary>
    /// <exception cref="ArgumentException">No CPU has that name.</exception>
    public static ModuleTarget Parse(string name) =>
        (name == "host" ? Host : All.FirstOrDefault(target => target.Name == name))
        ?? throw new ArgumentException($"unknown target CPU '{name}': expected host, {string.Join(", ", All.Select(target => target.Name))}", nameof(name));

    public override string ToString() => Name;
}
