namespace HcrLab.Lab.Cli;

/// <summary>Files a command writes its results to (<c>--json</c>), checked before the run so that no result is lost after it.</summary>
internal static class OutputFile
{
    /// <summary>
    /// Whether <paramref name="path"/> can be written, found by opening it for writing (without truncating it; a file
    /// this check created is removed again). <paramref name="problem"/> says why not.
    /// </summary>
    public static bool CanWrite(string path, out string problem)
    {
        bool existed = File.Exists(path);
        try
        {
            using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write))
            {
            }

            if (!existed)
            {
                File.Delete(path);
            }

            problem = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return false;
        }
    }
}
