namespace DefenseBench.Harness.Tests.Support;

/// <summary>
/// A matrix of two cells of which one fails: a learning rate beyond float range is valid in the matrix but overflows
/// when the client trains (block f, llg, the FedAvg protocol), while the FedSGD cell runs.
/// </summary>
public static class FailingMatrix
{
    public const string Yaml = """
        name: fails
        seeds: 1
        blocks:
          - name: f
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 2
            protocol: [{fedavg: {steps: 2, lr: 1e39}}, fedsgd]
            attacks: [llg]
        """;
}
