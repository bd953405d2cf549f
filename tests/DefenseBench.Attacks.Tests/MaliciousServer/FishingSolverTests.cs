using DefenseBench.Attacks.MaliciousServer;
using DefenseBench.Core.Randomness;
using TorchSharp;

namespace DefenseBench.Attacks.Tests.MaliciousServer;

public sealed class FishingSolverTests
{
    private static double[][] Embeddings(int clients, int d, Rng rng) =>
        Enumerable.Range(0, clients).Select(_ => Enumerable.Range(0, d).Select(_ => rng.Uniform(0.1, 1)).ToArray()).ToArray();

    [Fact]
    public void Rank_one_gradients_of_known_embeddings_split_back_exactly()
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(3);
        const int clients = 5, d = 6, classes = 4;
        var e = Embeddings(clients, d, rng);
        var gradients = Enumerable.Range(0, clients).Select(_ => Enumerable.Range(0, classes).Select(_ => rng.Uniform(-1, 1)).ToArray()).ToArray();
        double[] omega = [0.1, 0.2, 0.3, 0.15, 0.25];
        var gw = new double[classes * d];
        var gb = new double[classes];
        for (int k = 0; k < clients; k++)
            for (int c = 0; c < classes; c++)
            {
                gb[c] += omega[k] * gradients[k][c];
                for (int j = 0; j < d; j++) gw[c * d + j] += omega[k] * gradients[k][c] * e[k][j];
            }

        var split = FishingSolver.Split(torch.tensor(gw, [classes, d]), torch.tensor(gb), e, omega);

        for (int k = 0; k < clients; k++)
            for (int c = 0; c < classes; c++)
                Assert.Equal(gradients[k][c], split.BiasGradients[k][c], 10);
        Assert.InRange(split.RelativeResidual, 0, 1e-12);
    }

    [Fact]
    public void More_clients_than_d_plus_1_make_the_design_rank_deficient()
    {
        var rng = new Rng(1);

        Assert.True(double.IsFinite(FishingSolver.Condition(Embeddings(7, 6, rng), withBias: true)));
        Assert.Equal(double.PositiveInfinity, FishingSolver.Condition(Embeddings(8, 6, rng), withBias: true));
        Assert.Equal(double.PositiveInfinity, FishingSolver.Condition(Embeddings(7, 6, rng), withBias: false));
    }

    [Fact]
    public void Counts_follow_from_the_preset_softmax_and_the_bias_gradient()
    {
        // Mean cross-entropy over B = 4 with labels {0, 0, 2, 3}: ∇b = p − n/B.
        double[] p = [0.1, 0.2, 0.3, 0.4];
        int[] counts = [2, 0, 1, 1];
        var gradient = p.Select((pc, c) => pc - counts[c] / 4.0).ToArray();

        Assert.Equal(counts, FishingSolver.Counts(p, gradient, 4, 1));
        // Two steps with the same preset softmax: Σ_t ∇b_t = 2p − n/B over both steps' labels.
        Assert.Equal(counts.Select(n => 2 * n).ToArray(), FishingSolver.Counts(p, p.Select((pc, c) => 2 * pc - 2 * counts[c] / 4.0).ToArray(), 4, 2));
    }
}
