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
        var byNameOrder = modules.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();

        // Tops first; then whatever only a cycle reaches.
        var loadOrder = PostOrder(byNameOrder.Where(m => !imported.Contains(m.Name)).Concat(byNameOrder), byName.GetValueOrDefault);
        loadOrder.Reverse();
        return loadOrder;
    }

    /// <summary>
    /// Depth-first post-order over imports from <paramref name="starts"/> in turn: each module once, after the modules
    /// it imports that <paramref name="find"/> knows (null for the others).
    /// </summary>
    public static List<ModuleDescriptor> PostOrder(IEnumerable<ModuleDescriptor> starts, Func<string, ModuleDescriptor?> find)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<ModuleDescriptor>();
        foreach (var module in starts)
        {
            Visit(module);
        }

        return order;

        void Visit(ModuleDescriptor module)
        {
            if (!seen.Add(module.Name))
            {
                return;
            }

            foreach (string import in module.Imports)
            {
                if (find(import) is { } dependency)
                {
                    Visit(dependency);
                }
            }

            order.Add(module);
        }
    }
}
