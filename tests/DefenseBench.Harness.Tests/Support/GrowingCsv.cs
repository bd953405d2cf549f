namespace DefenseBench.Harness.Tests.Support;

/// <summary>Reads a cells.csv that another process is still writing.</summary>
public static class GrowingCsv
{
    /// <summary>Complete data rows so far (0 while the file does not exist).</summary>
    public static int DataRows(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return Math.Max(0, reader.ReadToEnd().Count(c => c == '\n') - 1);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }
    }
}
