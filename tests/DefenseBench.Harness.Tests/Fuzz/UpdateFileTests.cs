using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Fuzz;

/// <summary>`attack NAME --update FILE` on every defect of <see cref="SafeTensorsCorpus"/>: exit 2 naming the file and the tensor, never a crash.</summary>
public sealed class UpdateFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Defects() => [.. SafeTensorsCorpus.Defects().Select(f => f.Name)];

    /// <summary>The label attacks that can audit a file, each reading a different part of the last layer.</summary>
    public static readonly string[] Attacks = ["llg", "ilrg", "rlg", "ebi", "idlg-label", "gi-label"];

    [Theory]
    [MemberData(nameof(Defects))]
    public void Every_defect_is_an_input_error_naming_the_file_and_what_is_wrong(string name)
    {
        var file = SafeTensorsCorpus.Defects().Single(f => f.Name == name);
        string path = _temp[name + ".safetensors"];
        File.WriteAllBytes(path, file.Bytes);

        foreach (string attack in Attacks)
        {
            var result = InProcess.Run("attack", attack, "--update", path);
            if (file.Expect == null)
            {
                Assert.True(result.ExitCode == 0, $"{attack}: {result.Output}");
                continue;
            }
            Assert.True(result.ExitCode == 2, $"{attack}: {result.Output}");
            Assert.Contains(path, result.Stderr, StringComparison.Ordinal);
            Assert.Contains(file.Expect, result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Random_mutations_of_a_valid_file_give_an_answer_or_an_input_error()
    {
        foreach (var file in SafeTensorsCorpus.Mutations(seed: 1, count: 150))
        {
            string path = _temp[file.Name + ".safetensors"];
            File.WriteAllBytes(path, file.Bytes);
            var result = InProcess.Run("attack", Attacks[file.Bytes.Length % Attacks.Length], "--update", path);
            Assert.True(result.ExitCode is 0 or 2, $"{file.Name}: {result.Output}");
            Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        }
    }
}
