using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using HcrLab.Perf.Benchmarks;

namespace HcrLab.Tests.Perf;

/// <summary>
/// Every benchmark of perf/ runs once, so none rots while CI does not run the suites (the machine is noisy and CI has
/// a time limit). Each benchmark method is invoked directly, with its class's setups and cleanups in BenchmarkDotNet's
/// order, at the smallest value of each parameter; BenchmarkDotNet itself must accept every class.
/// </summary>
[Category("Perf")]
[NonParallelizable]
public sealed class BenchmarkDryRunTests
{
    private static readonly Type[] Suites = [.. typeof(SymbolSizes).Assembly.GetTypes()
        .Where(t => t.IsClass && !t.IsAbstract && t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
        .OrderBy(t => t.Name, StringComparer.Ordinal)];

    public static IEnumerable<TestCaseData> Benchmarks() =>
        Suites.SelectMany(type => type.GetMethods()
            .Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null)
            .Select(m => new TestCaseData(type, m.Name).SetName($"{type.Name}.{m.Name}")));

    [Test]
    public void EverySuiteIsFound() =>
        Assert.That(Suites.Select(t => t.Name), Is.SupersetOf(new[]
        {
            "SymbolRegistrationBenchmarks", "SymbolLookupBenchmarks", "SlotCallBenchmarks", "ReloadBenchmarks",
            "ReloadCheckBenchmarks", "EncoderBenchmarks", "LabBenchmarks",
        }));

    [TestCaseSource(nameof(Suites))]
    public void BenchmarkDotNetAcceptsTheSuite(Type suite)
    {
        var run = BenchmarkConverter.TypeToBenchmarks(suite);
        Assert.That(run.BenchmarksCases, Is.Not.Empty);
    }

    [TestCaseSource(nameof(Benchmarks))]
    public void RunsOnce(Type suite, string method)
    {
        if (suite == typeof(ReloadBenchmarks) || suite == typeof(ReloadCheckBenchmarks))
        {
            RequireGcc();
        }

        object instance = Activator.CreateInstance(suite)!;
        SetSmallestParameters(instance);
        var benchmark = suite.GetMethod(method)!;
        Invoke<GlobalSetupAttribute>(instance, method);
        try
        {
            Invoke<IterationSetupAttribute>(instance, method);
            object? result = benchmark.Invoke(instance, null);
            Invoke<IterationCleanupAttribute>(instance, method);
            Assert.That(result, Is.Not.Null, $"{suite.Name}.{method} returned nothing");
        }
        finally
        {
            Invoke<GlobalCleanupAttribute>(instance, method);
        }
    }

    private static void RequireGcc()
    {
        if (!File.Exists("/usr/bin/gcc"))
        {
            Assert.Ignore("gcc is not installed; the reload benchmarks build C modules with it");
        }
    }

    /// <summary>Each [Params] or [ParamsSource] property at its smallest (or first) value.</summary>
    private static void SetSmallestParameters(object instance)
    {
        foreach (var property in instance.GetType().GetProperties())
        {
            if (property.GetCustomAttribute<ParamsAttribute>() is { } values)
            {
                property.SetValue(instance, values.Values.OrderBy(v => v as IComparable).First());
            }
            else if (property.GetCustomAttribute<ParamsSourceAttribute>() is { } source)
            {
                var member = instance.GetType().GetProperty(source.Name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance)!;
                object first = ((System.Collections.IEnumerable)member.GetValue(member.GetMethod!.IsStatic ? null : instance)!).Cast<object>().First();
                property.SetValue(instance, first);
            }
        }
    }

    /// <summary>Calls the setup or cleanup methods of kind <typeparamref name="T"/> that apply to <paramref name="benchmark"/>.</summary>
    private static void Invoke<T>(object instance, string benchmark)
        where T : TargetedAttribute
    {
        foreach (var method in instance.GetType().GetMethods())
        {
            if (method.GetCustomAttribute<T>() is { } attribute && (attribute.Targets is not { Length: > 0 } targets || targets.Contains(benchmark)))
            {
                method.Invoke(instance, null);
            }
        }
    }
}
