using System.Text.Json;
using System.Text.Json.Nodes;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>Copies of a run's folder for tests that damage one, and edits of its manifest.json.</summary>
public static class RunCopies
{
    /// <summary>A copy of <paramref name="folder"/>'s cells.csv and manifest.json in the new folder <paramref name="name"/> of <paramref name="into"/>.</summary>
    public static string Copy(string folder, TempFolder into, string name)
    {
        string copy = into[name];
        Directory.CreateDirectory(copy);
        foreach (string file in new[] { CellsCsv.FileName, Manifest.FileName })
            File.Copy(Path.Combine(folder, file), Path.Combine(copy, file));
        return copy;
    }

    /// <summary>Changes the folder's manifest.json as JSON (a field set, removed or broken) and writes it back indented.</summary>
    public static void EditManifest(string folder, Action<JsonObject> edit)
    {
        string path = Path.Combine(folder, Manifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(manifest);
        File.WriteAllText(path, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
