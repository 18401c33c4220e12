using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using HcrLab.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>
/// Copy folders: a host that dies leaves its folder of module copies behind; the next runtime to start removes the
/// folders of processes that no longer run (a reused pid does not keep a folder alive), and only in a parent of this
/// user's that no one else may enter.
/// </summary>
[TestFixture]
[Category("Reliability")]
[NonParallelizable]
[UnsupportedOSPlatform("windows")]
public sealed partial class CopyFolderTests
{
    private string _parent = null!;

    [SetUp]
    public void CreateParent()
    {
        // mkdtemp: a fresh folder, 0700, that no one else can have made first.
        _parent = Directory.CreateTempSubdirectory("hcrlab-copy-folders-").FullName;
    }

    [TearDown]
    public void RemoveParent()
    {
        File.SetUnixFileMode(_parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(_parent, recursive: true);
    }

    [Test]
    public void AFolderLeftByAHostThatDiedIsRemovedAtTheNextStart()
    {
        var child = ChildProcess.Run(TimeSpan.FromSeconds(60), "die-holding-copies");
        Assert.That(child.ExitCode, Is.EqualTo(128 + 9), $"the child kills itself with SIGKILL:\n{child}");
        string left = child.OutputLines.Single();
        Assert.That(Directory.Exists(left), Is.True, "a process killed by a signal removes nothing");

        using (var runtime = HcrRuntime.Create(new HcrRuntimeOptions()))
        {
            Assert.That(Directory.Exists(left), Is.False, "the next runtime's start removed the dead host's folder");
            Assert.That(Path.GetDirectoryName(runtime.CopyDirectory), Is.EqualTo(Path.GetDirectoryName(left)), "one parent per user");
            Assert.That(File.GetUnixFileMode(Path.GetDirectoryName(runtime.CopyDirectory)!), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        }
    }

    [Test]
    public void OnlyFoldersOfProcessesThatNoLongerRunAreRemoved()
    {
        int me = Environment.ProcessId;
        ulong started = CopyFolders.StartTime(me)!.Value;
        int dead = DeadPid();
        // A reused pid: the folder's owner started before the process that has its pid now (started - 1). A start time
        // recorded later than this process's (started + 1) is this process's own, read later: qemu-user measures it
        // itself when it emulates /proc/self/stat, and no other process can have held this pid then, as this one did.
        string[] removed = [Folder($"hcrlab-{dead}-{started}-x"), Folder($"hcrlab-{me}-{started - 1}-reused")];
        string[] kept = [Folder($"hcrlab-{me}-{started}-alive"), Folder($"hcrlab-{me}-{started + 1}-qemu"), Folder("hcrlab-other-form"), Folder($"hcrlab-{dead}-{started}")];
        File.WriteAllText(Path.Combine(_parent, $"hcrlab-{dead}-{started}-file"), "not a folder");

        // The two stale ones: a pid no process has, and this process's pid recorded by a process that started before it.
        Assert.That(CopyFolders.RemoveStale(_parent), Is.EqualTo(2));
        Assert.That(removed.Where(Directory.Exists), Is.Empty);
        Assert.That(kept.Where(f => !Directory.Exists(f)), Is.Empty, "a live process's folder, and names of another form, stay");
        Assert.That(File.Exists(Path.Combine(_parent, $"hcrlab-{dead}-{started}-file")), Is.True, "only directories are removed");
    }

    [Test]
    public void AParentOthersMayEnterIsRefused()
    {
        File.SetUnixFileMode(_parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.OtherRead);

        var error = Assert.Throws<UntrustedFolderException>(() => CopyFolders.Create(_parent))!;

        Assert.That(error.Message, Is.EqualTo($"the copy folder's parent {_parent} has mode 707: other users may enter it (it must be 700); remove it, or give HcrRuntimeOptions.CopyDirectory a folder of your own"));
        Assert.That(Directory.GetFileSystemEntries(_parent), Is.Empty, "nothing written there");
    }

    [Test]
    public void AParentThatIsALinkIsRefused()
    {
        string link = _parent + "-link";
        File.CreateSymbolicLink(link, _parent);
        try
        {
            var error = Assert.Throws<UntrustedFolderException>(() => CopyFolders.Create(link))!;

            Assert.That(error.Message, Does.StartWith($"the copy folder's parent {link} is a symbolic link, not a directory;"));
        }
        finally
        {
            File.Delete(link);
        }
    }

    [Test]
    public void AParentOfAnotherUserIsRefused()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("giving a folder to another user takes root");
        }

        File.SetUnixFileMode(_parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assert.That(Chown(_parent, 65534, 65534), Is.Zero, "chown to nobody");

        var error = Assert.Throws<UntrustedFolderException>(() => CopyFolders.Create(_parent))!;

        Assert.That(error.Message, Does.StartWith($"the copy folder's parent {_parent} is owned by uid 65534, not by this user (uid 0);"));
    }

    private string Folder(string name)
    {
        string folder = Path.Combine(_parent, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.g0.1.so"), "a copy");
        return folder;
    }

    /// <summary>The pid of a process that ran and was reaped: no process has it now (pids are handed out in increasing order until they wrap).</summary>
    private static int DeadPid()
    {
        using var process = System.Diagnostics.Process.Start("true")!;
        process.WaitForExit();
        Assert.That(CopyFolders.StartTime(process.Id), Is.Null, "the reaped process's pid is free");
        return process.Id;
    }

    [LibraryImport("libc.so.6", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
