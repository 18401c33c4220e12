using HcrLab.Runtime;

namespace HcrLab.Perf.Infrastructure;

/// <summary>
/// The callee of the call benchmarks: <c>int64_t increment(int64_t x)</c> as five bytes of amd64 code
/// (<c>lea rax, [rdi+1]; ret</c>) in executable memory of its own, so a call measures the call and nothing else, and no
/// compiler can inline or devirtualise it. Placed near libc, as the dynamic loader places modules.
/// </summary>
public sealed unsafe class NativeIncrement : IDisposable
{
    private static ReadOnlySpan<byte> Code => [0x48, 0x8D, 0x47, 0x01, 0xC3];

    private readonly ExecutableMemory _memory;

    public NativeIncrement()
    {
        _memory = ExecutableMemory.Reserve(ExecutableMemory.CommitChunk, ExecutableMemory.DefaultAnchor);
        ulong offset = _memory.Allocate(Code.Length, 16);
        Code.CopyTo(_memory.Writable(offset, Code.Length));
        Address = _memory.ExecutableAddress(offset);
    }

    /// <summary>The function's address.</summary>
    public nint Address { get; }

    public void Dispose() => _memory.Dispose();
}
