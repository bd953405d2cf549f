using DefenseBench.Core.Randomness;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>
/// Who exchanges shares and pairwise masks with whom. SecAgg (Bonawitz et al. 2017) joins every pair; SecAgg+ (Bell
/// et al. 2020; Flower) shuffles the clients into a ring and joins each to the degree/2 nearest on either side, so
/// a client's cost grows with the degree instead of with n.
/// </summary>
public sealed class NeighbourGraph
{
    private readonly int[][] _neighbours;

    private NeighbourGraph(int[][] neighbours)
    {
        _neighbours = neighbours;
        for (int u = 0; u < neighbours.Length; u++)
            foreach (int v in neighbours[u])
                if (v == u || Array.BinarySearch(neighbours[v], u) < 0)
                    throw new ArgumentException($"a neighbour graph must be symmetric and loop-free ({u} – {v})", nameof(neighbours));
    }

    public int Clients => _neighbours.Length;

    /// <summary>The neighbours of <paramref name="client"/>, ascending.</summary>
    public IReadOnlyList<int> Of(int client) => _neighbours[client];

    public bool AreNeighbours(int u, int v) => Array.BinarySearch(_neighbours[u], v) >= 0;

    /// <summary>Every client a neighbour of every other.</summary>
    public static NeighbourGraph Complete(int clients) =>
        new(Enumerable.Range(0, clients).Select(u => Enumerable.Range(0, clients).Where(v => v != u).ToArray()).ToArray());

    /// <summary>
    /// The SecAgg+ ring: clients in a random order, each joined to the <paramref name="degree"/>/2 nearest on either
    /// side (<paramref name="degree"/> even). A degree of at least n − 1 gives the complete graph.
    /// </summary>
    public static NeighbourGraph Ring(int clients, int degree, Rng rng)
    {
        if (degree < 2 || degree % 2 != 0) throw new ArgumentOutOfRangeException(nameof(degree), $"the ring's degree must be even and at least 2, got {degree}");
        if (degree >= clients - 1) return Complete(clients);
        var order = Enumerable.Range(0, clients).ToArray();
        rng.Shuffle(order);
        var neighbours = new SortedSet<int>[clients];
        for (int i = 0; i < clients; i++) neighbours[i] = [];
        for (int position = 0; position < clients; position++)
            for (int offset = 1; offset <= degree / 2; offset++)
            {
                int u = order[position], v = order[(position + offset) % clients];
                neighbours[u].Add(v);
                neighbours[v].Add(u);
            }
        return new NeighbourGraph(neighbours.Select(s => s.ToArray()).ToArray());
    }
}
