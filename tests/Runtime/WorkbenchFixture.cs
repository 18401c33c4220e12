namespace HcrLab.Tests.Runtime;

/// <summary>A fixture whose every test gets a fresh <see cref="ModuleWorkbench"/> (gcc-built modules on a new runtime), disposed after it.</summary>
public abstract class WorkbenchFixture
{
    private ModuleWorkbench? _bench;

    private protected ModuleWorkbench Bench => _bench ?? throw new InvalidOperationException("the workbench exists only while a test runs");

    /// <summary>Swaps this test's workbench for one built with other options: the first is disposed before the second is made, since only one runtime may live in a process.</summary>
    private protected void ReplaceBench(Func<ModuleWorkbench> create)
    {
        _bench?.Dispose();
        _bench = null;
        _bench = create();
    }

    [OneTimeSetUp]
    public void RequireGcc() => ModuleWorkbench.RequireGcc();

    [SetUp]
    public void CreateBench() => _bench = new ModuleWorkbench();

    [TearDown]
    public void DisposeBench()
    {
        _bench?.Dispose();
        _bench = null;
    }
}
