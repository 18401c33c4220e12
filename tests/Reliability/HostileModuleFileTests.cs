using System.Runtime.InteropServices;
using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// Module files that are not files, or too large to be a library: each is refused at <see cref="ModuleLoadStage.Format"/>
/// before it is opened for reading. Reading a FIFO waits for a writer that never comes (<c>hcrInit</c> hung), and
/// <c>/dev/zero</c> never ends (4 GB read before a refusal).
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
public sealed partial class HostileModuleFileTests : WorkbenchFixture
{
    /// <summary>Long enough for a refusal on two busy cores; a read of a FIFO without a writer never ends.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Test]
    public void AFifoIsRefusedWithoutWaitingForAWriter()
    {
        string fifo = Bench.PathOf("a");
        Assert.That(MakeFifo(fifo, Convert.ToInt32("600", 8)), Is.Zero, "mkfifo");

        var start = Task.Run(() => Bench.Runtime.Start("a"));
        try
        {
            Assert.That(Ends(start), Is.True, "Start still waits for a writer of the FIFO");
        }
        finally
        {
            if (!start.IsCompleted)
            {
                // Before the fix: a writer's open releases the reader's, which then reads nothing.
                using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            }

            Ends(start);
        }

        var error = Refusal(start);
        Assert.That((error.Module, error.Stage), Is.EqualTo(("a", ModuleLoadStage.Format)));
        Assert.That(error.Cause, Is.EqualTo("a FIFO, not a regular file (refused before it was opened)"));
    }

    [Test]
    public void ACharacterDeviceIsRefusedWithoutReadingIt()
    {
        // A rooted module name is its own path: /dev/zero reads zeros for ever.
        var start = Task.Run(() => Bench.Runtime.Start("/dev/zero"));
        Assert.That(Ends(start), Is.True, "Start still reads /dev/zero");

        var error = Refusal(start);
        Assert.That((error.Module, error.Stage, error.Cause), Is.EqualTo(("/dev/zero", ModuleLoadStage.Format, "a character device, not a regular file (refused before it was opened)")));
    }

    [Test]
    public void ADirectoryIsRefusedAsNotARegularFile()
    {
        Directory.CreateDirectory(Bench.PathOf("a"));

        var error = Assert.Throws<ModuleLoadException>(() => Bench.Runtime.Start("a"))!;

        Assert.That((error.Stage, error.Cause), Is.EqualTo((ModuleLoadStage.Format, "a directory, not a regular file (refused before it was opened)")));
    }

    [Test]
    public void AFileLargerThanTheLimitIsRefusedBeforeItIsRead()
    {
        // A sparse file one byte over the limit: no disk space, and reading it would fill a 1 GiB array with zeros.
        long size = ModuleFile.MaxSize + 1;
        using (var file = new FileStream(Bench.PathOf("a"), FileMode.CreateNew))
        {
            file.SetLength(size);
        }

        var error = Assert.Throws<ModuleLoadException>(() => Bench.Runtime.Start("a"))!;

        Assert.That((error.Stage, error.Cause), Is.EqualTo((ModuleLoadStage.Format, $"{size} bytes, more than the {ModuleFile.MaxSize} a module file may have (refused before it was read)")));
    }

    private static bool Ends(Task task) => Task.WhenAny(task, Task.Delay(Patience)).Result == task;

    private static ModuleLoadException Refusal(Task start) =>
        start.Exception?.InnerException as ModuleLoadException ?? throw new AssertionException($"Start ended with {start.Exception?.InnerException?.ToString() ?? "no error"}, not a refusal");

    [LibraryImport("libc.so.6", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeFifo(string path, int mode);
}
