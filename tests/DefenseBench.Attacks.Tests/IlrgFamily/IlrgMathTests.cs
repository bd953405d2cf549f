using DefenseBench.Attacks.IlrgFamily;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Attacks.Tests.IlrgFamily;

public sealed class IlrgMathTests
{
    private static Tensor Doubles(params double[] values) => torch.tensor(values, dtype: ScalarType.Float64);

    /// <summary>
    /// A last layer whose rows obey iLRG's approximation (1) exactly: every sample of class j has the embedding e_j,
    /// so p̄_j = softmax(W e_j + b) and ∇b = (Σ_j n_j p̄_j − n) / K exactly, and each weight-gradient row is
    /// ∇W[j, :] = ∇b_j · e_j, so the class-wise embedding ê_j = ∇W[j, :] / ∇b_j is e_j.
    /// </summary>
    private static (Tensor WeightGrad, Tensor BiasGrad, Tensor Weight, Tensor Bias) ExactLayer(int[] counts, int d, ulong seed)
    {
        int c = counts.Length, k = counts.Sum();
        var generator = new Generator(seed, torch.CPU);
        var weight = torch.randn([c, d], dtype: ScalarType.Float64, generator: generator) * 0.3;
        var bias = torch.randn([c], dtype: ScalarType.Float64, generator: generator) * 0.1;
        var embeddings = torch.randn([c, d], dtype: ScalarType.Float64, generator: generator);
        var probabilities = torch.nn.functional.softmax(embeddings.matmul(weight.t()) + bias, 1);
        var n = torch.tensor(counts.Select(x => (double)x).ToArray(), dtype: ScalarType.Float64);
        var biasGrad = (n.unsqueeze(1) * probabilities).sum(dim: 0).sub(n) / k;
        return (biasGrad.unsqueeze(1) * embeddings, biasGrad, weight, bias);
    }

    [Theory]
    [InlineData(10, 300, 24, 1UL)]
    [InlineData(100, 84, 64, 2UL)]
    [InlineData(100, 4096, 1024, 3UL)]
    public void Exact_per_class_embeddings_give_the_exact_counts(int classes, int d, int batch, ulong seed)
    {
        using var scope = torch.NewDisposeScope();
        var rng = new DefenseBench.Core.Randomness.Rng(seed);
        var counts = new int[classes];
        for (int i = 0; i < batch; i++) counts[rng.NextInt(Math.Min(classes, 1 + batch / 3))]++;
        var (gw, gb, w, b) = ExactLayer(counts, d, seed);

        var recovered = IlrgMath.Restore(gw.to(ScalarType.Float32), gb.to(ScalarType.Float32), w, b, batch, batch);

        Assert.Equal(counts, recovered);
    }

    [Fact]
    public void The_system_with_the_sum_row_has_full_column_rank_and_the_probability_block_alone_does_not()
    {
        using var scope = torch.NewDisposeScope();
        const int c = 50;
        var probabilities = torch.nn.functional.softmax(torch.randn([c, c], dtype: ScalarType.Float64, generator: new Generator(4, torch.CPU)) * 3, 1);
        var gb = torch.zeros(c, dtype: ScalarType.Float64);

        var (a, v) = IlrgMath.System(probabilities, gb, 24, 24, Enumerable.Range(0, c).Select(i => (long)i).ToArray());

        Assert.Equal([(long)c + 1, c], a.shape);
        Assert.Equal([(long)c + 1], v.shape);
        Assert.Equal(c, torch.linalg.matrix_rank(a).item<long>());
        // (1/C)11ᵀ − I and every Pᵀ − I have the all-ones vector in the left null space: the Σn = K row is what makes the rank C.
        Assert.Equal(c - 1, torch.linalg.matrix_rank(a.narrow(0, 1, c)).item<long>());
    }

    [Fact]
    public void A_class_wise_embedding_is_the_ratio_of_the_gradients_when_the_exponents_are_close()
    {
        using var scope = torch.NewDisposeScope();
        var e = IlrgMath.ClassEmbeddings(Doubles(3e-4, -6e-3, 0).reshape(1, 3), Doubles(-1.5e-3));

        Assert.Equal([-0.2, 4, 0], e.data<double>().ToArray().Select(x => Math.Round(x, 12)));
    }

    [Fact]
    public void A_vanishing_bias_gradient_gives_a_large_finite_embedding_as_in_the_reference()
    {
        using var scope = torch.NewDisposeScope();
        // get_emb reads ∇b = 0 as 1e-64 and clamps the exponent difference to +10: 2.5e-3 / 0 -> 2.5 * 1e10.
        var zero = IlrgMath.ClassEmbeddings(Doubles(2.5e-3).reshape(1, 1), Doubles(0)).item<double>();
        // 1e-3 / 1e-20: exponent difference 17, clamped to 10.
        var tiny = IlrgMath.ClassEmbeddings(Doubles(1e-3).reshape(1, 1), Doubles(1e-20)).item<double>();

        Assert.Equal(2.5e10, zero, 1e-3);
        Assert.Equal(1e10, tiny, 1e-3);
    }

    [Fact]
    public void Rounding_is_half_to_even_negatives_become_zero_and_counts_above_the_batch_are_dropped()
    {
        Assert.Equal([2, 4, 0, 0, 1], IlrgMath.Round([2.5, 3.5, -1.2, 30, 0.51], 24));
    }

    [Fact]
    public void Sum_to_batch_takes_from_the_class_rounded_up_most_and_never_below_zero()
    {
        Assert.Equal([2, 0, 2], IlrgMath.SumTo([3, 0, 2], [2.6, -0.4, 2.45], 4));
        // The reference's positive branch would take from the absent class (error 3) and leave it at -1.
        Assert.Equal([0, 4], IlrgMath.SumTo([0, 5], [-3, 5.2], 4));
    }

    [Fact]
    public void Sum_to_batch_adds_exactly_the_missing_units_to_the_classes_rounded_down_most()
    {
        // The reference's negative branch slices inds[:num_mod] with num_mod = -2, i.e. all but the last two indices.
        Assert.Equal([2, 1, 1], IlrgMath.SumTo([1, 0, 1], [1.4, 0.45, 0.6], 4));
    }

    [Fact]
    public void The_simplified_system_solves_only_for_the_known_classes()
    {
        using var scope = torch.NewDisposeScope();
        int[] counts = [0, 5, 0, 0, 2, 0, 1, 0, 0, 0];
        var (gw, gb, w, b) = ExactLayer(counts, 40, 9);

        var all = IlrgMath.Restore(gw, gb, w, b, 8, 8);
        var known = IlrgMath.Restore(gw, gb, w, b, 8, 8, known: [6, 1, 4]);
        var wrongSet = IlrgMath.Restore(gw, gb, w, b, 8, 8, known: [1, 4]);

        Assert.Equal(counts, all);
        Assert.Equal(counts, known);
        Assert.Equal(0, wrongSet[6]);
    }
}
