using HcrLab.Runtime;
using HcrLab.Tests.Runtime;

namespace HcrLab.Tests.Reliability;

/// <summary>A workbench fixture whose runtime runs module code in a child process first (<see cref="HcrRuntimeOptions.Trial"/>).</summary>
public abstract class TrialFixture : WorkbenchFixture
{
    private protected abstract ModuleTrial Trial { get; }

    private protected HcrRuntime Runtime => Bench.Runtime;

    [SetUp]
    public void UseTheTrial() =>
        ReplaceBench(() => new ModuleWorkbench(options: new HcrRuntimeOptions { Trial = Trial }));
}
