using System.Runtime.InteropServices;

namespace HcrLab.Native;

/// <summary>
/// Nim's closure (<c>proc ()</c> with the default closure calling convention) as its generated C passes it by value:
/// <c>struct { void* ClP_0; void* ClE_0; }</c>, the proc and its environment. On x86-64 System V the two words travel in
/// two integer registers, so a C host can pass <c>(HcrClosure){ fn, NULL }</c>. Nim calls <c>ClP_0()</c> when the
/// environment is NULL and <c>ClP_0(ClE_0)</c> otherwise; the runtime does the same.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct NimClosure
{
    public readonly nint Function;
    public readonly nint Environment;
}
