namespace HcrLab.Tests;

/// <summary>Whether a process a test killed is gone: no longer in <c>/proc</c>, or a zombie (dead, waiting to be reaped).</summary>
internal static class ProcessGone
{
    /// <summary>
    /// True once <paramref name="pid"/> is gone, checked every 10 ms for at most <paramref name="limit"/>: the kill was
    /// sent before this is called, so this waits for the kernel to carry it out, not for any work to finish.
    /// </summary>
    public static bool Within(int pid, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!Now(pid))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }

    /// <summary>True when <paramref name="pid"/> is not in <c>/proc</c> or is a zombie (the state after the last ')').</summary>
    public static bool Now(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }
}
