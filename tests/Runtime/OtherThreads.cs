using HcrLab.Runtime;

namespace HcrLab.Tests.Runtime;

/// <summary>Threads other than the test's own, for the image-retention contract.</summary>
internal static class OtherThreads
{
    /// <summary>Registers a thread other than the reloading one, which holds replaced images until it reports or goes (the test drives its reports).</summary>
    public static HcrThread RegisterOnAnotherThread(this HcrRuntime runtime, string name)
    {
        HcrThread? thread = null;
        var registering = new Thread(() => thread = runtime.RegisterThread(name));
        registering.Start();
        registering.Join();
        return thread!;
    }
}
