using HcrLab.Lab.Emulation;
using NUnit.Framework;

namespace HcrLab.Tests.Emulation;

[TestFixture]
[Category("Emulation")]
public sealed class UnicornLibraryTests
{
    [Test]
    public void AMissingLibraryTellsWhatToInstall()
    {
        var missing = Assert.Throws<UnicornMissingException>(() => UnicornNative.Load(["libunicorn-absent.so.9"]));

        Assert.That(missing!.Message, Is.EqualTo(
            "Unicorn 2 (libunicorn.so.2) is not installed: run `sudo apt-get install libunicorn2` (Debian/Ubuntu)"));
    }

    [Test]
    public void TheInstalledLibraryIsUnicorn2()
    {
        Assert.That(UnicornEngine.TryLoad(out var problem), Is.True, problem);
        Assert.That(UnicornEngine.LibraryVersion.Major, Is.EqualTo(2));
    }

    [Test]
    public void ARefusedCallCarriesUnicornsMessage()
    {
        using var engine = UnicornEngine.Open(UnicornArch.X86, UnicornMode.Bits32);

        // uc_mem_map needs a 4 KiB-aligned address.
        var refused = Assert.Throws<UnicornException>(() => engine.Map(0x1001, 0x1000, MemoryPermissions.All));

        Assert.That(refused!.Error, Is.EqualTo(UnicornError.InvalidArgument));
        Assert.That(refused.UnicornMessage, Is.EqualTo("Invalid argument (UC_ERR_ARG)"));
        Assert.That(refused.IsEmulationFault, Is.False);
    }
}
