namespace DefenseBench.Harness.Tests.Support;

/// <summary>A fresh folder under the system temp folder, deleted on dispose; tests never write into the repository.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("defensebench-harness-tests-").FullName;

    /// <summary>A path inside the folder (nothing is created).</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a text file into the folder and returns its path.</summary>
    public string Write(string name, string text)
    {
        string path = this[name];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a file still held open by a killed process may outlive the test
        }
        catch (UnauthorizedAccessException)
        {
            // best effort, as above
        }
    }
}
