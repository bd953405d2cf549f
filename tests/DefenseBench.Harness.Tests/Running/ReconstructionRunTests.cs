using DefenseBench.Core.Metrics;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Plots;
using DefenseBench.Harness.Results;
using DefenseBench.Harness.Running;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Running;

public sealed class ReconstructionRunTests : IDisposable
{
    private const string Matrix = """
        name: recon
        seeds: [0]
        success_psnr: 12.5
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 2
            protocol: {fedavg: {steps: 1, lr: 0.01}}
            attacks: [{dlg: {iterations: 2}}]
            defenses: [none, {topk: {keep: 0.1}}]
        """;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_reconstruction_cell_writes_image_metrics_and_a_picture_grid_linked_from_the_run_folder()
    {
        string matrix = _temp.Write("recon.yaml", Matrix);

        InProcess.Expect(0, "run", matrix, "--out", _temp["out"], "--device", "cpu");

        var rows = CellsCsv.Read(Path.Combine(_temp["out"], CellsCsv.FileName));
        Assert.Equal(2, rows.Count);
        string index = File.ReadAllText(new RunFolder(_temp["out"]).ImageIndex);
        Assert.All(rows, r =>
        {
            Assert.Equal(CellRow.Ok, r.Status);
            Assert.InRange(r.Psnr!.Value, 0, ImageMetrics.PsnrCeiling);
            Assert.InRange(r.Ssim!.Value, -1, 1);
            // A mean of per-image PSNRs; -log is convex, so it is at least the PSNR of the mean MSE (Jensen).
            Assert.True(r.Psnr!.Value >= ImageMetrics.Psnr(r.Mse!.Value) - 1e-9);
            Assert.Contains("success_psnr=12.5", r.Extras, StringComparison.Ordinal);
            string grid = RunFolder.GridFileName(r.CellId, r.Seed);
            Assert.True(File.Exists(Path.Combine(new RunFolder(_temp["out"]).Images, grid)));
            Assert.Contains($"src=\"{grid}\"", index, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void The_success_column_is_the_share_of_images_at_or_above_the_threshold()
    {
        ImageScore[] scores = [new(0, 0, 1e-2, 20, 0.5), new(1, 1, 1e-3, 30, 0.9), new(2, 2, 0, double.PositiveInfinity, 1), new(3, 3, 0.1, 10, 0.1)];

        var row = Scoring.ScoreImages(new CellRow(), scores, successPsnr: 20);

        Assert.Equal(0.75, row.Success);
        Assert.Equal((20 + 30 + ImageMetrics.PsnrCeiling + 10) / 4, row.Psnr!.Value, 12);
        Assert.Equal((0.5 + 0.9 + 1 + 0.1) / 4, row.Ssim!.Value, 12);
    }

    [Fact]
    public void A_success_psnr_that_is_not_a_positive_number_is_reported_with_its_line()
    {
        var error = Assert.Single(Assert.Throws<MatrixException>(() => MatrixLoader.Parse(Matrix.Replace("success_psnr: 12.5", "success_psnr: -3"), "m.yaml")).Errors);

        Assert.Equal(3, error.Line);
        Assert.Contains("success_psnr", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_success_psnr_the_threshold_is_20_db()
    {
        Assert.Equal(20, MatrixLoader.Parse(Matrix.Replace("success_psnr: 12.5\n", ""), "m.yaml").SuccessPsnr);
    }
}
