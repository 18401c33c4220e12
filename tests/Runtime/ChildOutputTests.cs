using System.Text;
using HcrLab.Runtime;

namespace HcrLab.Tests.Runtime;

/// <summary>A child's output is kept capped: the last 64 KiB, in order, with a line saying how much was dropped.</summary>
[TestFixture]
[Category("Runtime")]
public sealed class ChildOutputTests
{
    [Test]
    public async Task OutputBeyondTheLimitKeepsItsLastBytesInOrder()
    {
        // 100,000 numbered lines "000000\n" .. "099999\n", 7 bytes each: 700,000 bytes. The last 65,536 bytes are
        // 9,362 whole lines (65,534 bytes) and the last 2 bytes of line 90,637 ("7\n"), so the kept text starts "7\n090638".
        string all = string.Concat(Enumerable.Range(0, 100_000).Select(i => $"{i:D6}\n"));
        var output = new ChildOutput(new MemoryStream(Encoding.ASCII.GetBytes(all)), CancellationToken.None);

        await output.Completion;

        string text = output.Text();
        Assert.That(text, Does.StartWith($"(output truncated: the first {700_000 - 65_536} bytes dropped)\n7\n090638\n"));
        Assert.That(text, Does.EndWith("099998\n099999\n"));
    }
}
