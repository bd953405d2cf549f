using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Tests.Support;

/// <summary>One unsharded run of matrices/quick.yaml, the reference every sharded-then-merged run must equal.</summary>
public sealed class QuickRun : IDisposable
{
    private readonly TempFolder _temp = new();

    public QuickRun()
    {
        InProcess.Expect(0, "run", MatrixPath, "--out", Out, "--device", "cpu");
    }

    public static string MatrixPath => Repository.File("matrices", "quick.yaml");

    public string Out => _temp["unsharded"];

    public IReadOnlyList<CellRow> Rows => CellsCsv.Read(System.IO.Path.Combine(Out, CellsCsv.FileName));

    public void Dispose() => _temp.Dispose();
}

/// <summary>The test classes that compare with the one unsharded quick run share it (and so run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class QuickRunCollection : ICollectionFixture<QuickRun>
{
    public const string Name = "unsharded quick run";
}
