namespace HcrLab.Runtime;

/// <summary>Orders over the import graph that do not depend on the runtime's state.</summary>
internal static class ModuleOrder
{
    /// <summary>
    /// <paramref name="modules"/> importers first: the reverse of the order they would load in (depth-first post-order
    /// over their imports among themselves, from those none of them imports, in name order), so that a module's
    /// destructors run while what it imports is still loaded.
    /// </summary>
    public static List<ModuleDescriptor> ImportersFirst(List<ModuleDescriptor> modules)
    {
        var byName = modules.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var imported = modules.SelectMany(m => m.Imports).Where(byName.ContainsKey).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var loadOrder = new List<ModuleDescriptor>();
        var byNameOrder = modules.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();

        // Tops first; then whatever only a cycle reaches.
        foreach (var module in byNameOrder.Where(m => !imported.Contains(m.Name)).Concat(byNameOrder))
        {
            Visit(module);
        }

        loadOrder.Reverse();
        return loadOrder;

        void Visit(ModuleDescriptor module)
        {
            if (!seen.Add(module.Name))
            {
                return;
            }

            foreach (string import in module.Imports)
            {
                if (byName.TryGetValue(import, out var dependency))
                {
                    Visit(dependency);
                }
            }

            loadOrder.Add(module);
        }
    }
}
