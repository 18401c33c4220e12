namespace HcrLab.Runtime;

/// <summary>What a start or a reload did.</summary>
/// <param name="Reloaded">False for a reload that found nothing changed and did nothing at all.</param>
/// <param name="Generation">The runtime's generation afterwards.</param>
/// <param name="LoadedModules">Modules loaded (new or changed), dependencies first.</param>
/// <param name="UnloadedModules">Modules no longer reachable from the root, unloaded with their globals freed, importers first (the reverse of their load order).</param>
public sealed record ReloadResult(bool Reloaded, long Generation, IReadOnlyList<string> LoadedModules, IReadOnlyList<string> UnloadedModules)
{
    /// <summary>The result of a reload that found nothing changed, at <paramref name="generation"/>.</summary>
    public static ReloadResult NoChange(long generation) => new(false, generation, [], []);

    /// <summary>The generation and the modules loaded and unloaded, in one line.</summary>
    public override string ToString() =>
        Reloaded
            ? $"generation {Generation}: loaded [{string.Join(", ", LoadedModules)}], unloaded [{string.Join(", ", UnloadedModules)}]"
            : $"generation {Generation}: nothing changed";
}
