using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

/// <summary>Inputs, graphs and dropout plans for protocol tests, all reproducible.</summary>
internal static class Protocol
{
    public static readonly Modulus R32 = Modulus.PowerOfTwo(32);

    public static ulong[][] Inputs(int clients, int length, ulong below, int seed)
    {
        var rng = new Rng((ulong)seed);
        return Enumerable.Range(0, clients)
            .Select(_ => Enumerable.Range(0, length).Select(_ => rng.NextULong() % below).ToArray())
            .ToArray();
    }

    public static ulong[] PlainSum(IEnumerable<ulong[]> inputs, Modulus modulus, int length)
    {
        var sum = new ulong[length];
        foreach (var x in inputs) modulus.AddTo(sum, x);
        return sum;
    }

    public static DropoutPhase[] NoDropouts(int clients) => new DropoutPhase[clients];

    /// <summary>
    /// A random dropout plan in which no client loses more than k − t neighbours: clients are considered in random
    /// order and dropped while that bound holds, up to <paramref name="most"/>.
    /// </summary>
    public static DropoutPhase[] Tolerable(NeighbourGraph graph, int threshold, int most, Func<Rng, DropoutPhase> phase, Rng rng)
    {
        int n = graph.Clients;
        var plan = new DropoutPhase[n];
        var lost = new int[n];
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        int dropped = 0;
        foreach (int u in order)
        {
            if (dropped == most) break;
            if (graph.Of(u).Any(v => lost[v] + 1 > graph.Of(v).Count - threshold)) continue;
            plan[u] = phase(rng);
            foreach (int v in graph.Of(u)) lost[v]++;
            dropped++;
        }
        return plan;
    }

    public static DropoutPhase AnyPhase(Rng rng) => (DropoutPhase)(1 + rng.NextInt(4));

    /// <summary>Pearson's χ² statistic of the byte histogram against the uniform distribution (255 degrees of freedom).</summary>
    public static double ByteChiSquare(IEnumerable<ulong> values, int bytesPerValue)
    {
        var counts = new long[256];
        long total = 0;
        foreach (ulong v in values)
            for (int b = 0; b < bytesPerValue; b++)
            {
                counts[(v >> (8 * b)) & 0xFF]++;
                total++;
            }
        double expected = total / 256.0;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }
}
