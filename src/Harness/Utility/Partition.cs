using DefenseBench.Core.Components;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Harness.Utility;

/// <summary>How the training examples are shared out among clients: iid, or label-skewed by a Dirichlet prior.</summary>
public static class Partition
{
    /// <summary>Examples 0..count−1 shuffled and dealt round-robin: every client gets ⌊count/N⌋ or ⌈count/N⌉.</summary>
    public static int[][] Iid(int count, int clients, Rng rng)
    {
        var order = Enumerable.Range(0, count).ToArray();
        rng.Shuffle(order);
        return Enumerable.Range(0, clients).Select(k => order.Where((_, i) => i % clients == k).ToArray()).ToArray();
    }

    /// <summary>
    /// Label skew (Hsu, Qi, Brown 2019): for each class, shares p ~ Dir(α, …, α) over the N clients split that class's
    /// examples; small α gives clients few classes. Redrawn until every client holds at least
    /// <paramref name="minSize"/> examples, as the reference code does.
    /// </summary>
    public static int[][] Dirichlet(IReadOnlyList<int> labels, int numClasses, int clients, double alpha, int minSize, Rng rng)
    {
        var byClass = Enumerable.Range(0, numClasses).Select(c => Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray()).ToArray();
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            var parts = Enumerable.Range(0, clients).Select(_ => new List<int>()).ToArray();
            foreach (var examples in byClass)
            {
                var shuffled = examples.ToArray();
                rng.Shuffle(shuffled);
                var shares = DirichletSample(clients, alpha, rng);
                int start = 0;
                double cumulative = 0;
                for (int k = 0; k < clients; k++)
                {
                    cumulative += shares[k];
                    int end = k == clients - 1 ? shuffled.Length : (int)Math.Round(cumulative * shuffled.Length);
                    end = Math.Clamp(end, start, shuffled.Length);
                    parts[k].AddRange(shuffled[start..end]);
                    start = end;
                }
            }
            if (parts.All(p => p.Count >= minSize)) return parts.Select(p => p.Order().ToArray()).ToArray();
        }
        throw new InputException($"a Dirichlet({alpha}) partition of {labels.Count} examples never gave each of {clients} clients {minSize} examples in 1000 draws",
            "raise the partition's α or train_images, or lower clients");
    }

    /// <summary>One draw of Dir(α, …, α) in <paramref name="dimension"/> dimensions: normalised Gamma(α, 1) draws.</summary>
    public static double[] DirichletSample(int dimension, double alpha, Rng rng)
    {
        var g = Enumerable.Range(0, dimension).Select(_ => Gamma(alpha, rng)).ToArray();
        double sum = g.Sum();
        // Tiny α can underflow every draw to 0; the limit of Dir(α → 0) puts all mass on one coordinate.
        if (sum == 0)
        {
            int only = rng.NextInt(dimension);
            return Enumerable.Range(0, dimension).Select(i => i == only ? 1.0 : 0.0).ToArray();
        }
        return g.Select(x => x / sum).ToArray();
    }

    /// <summary>
    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shapes below 1 use Gamma(a) = Gamma(a + 1)·U^{1/a}.
    /// </summary>
    public static double Gamma(double shape, Rng rng)
    {
        if (shape < 1) return Gamma(shape + 1, rng) * Math.Pow(1.0 - rng.NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = rng.NextGaussian();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }
}
