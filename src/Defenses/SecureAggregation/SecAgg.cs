using DefenseBench.Core.Attacks;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>Which protocol round simulated dropouts happen in; <see cref="Any"/> draws one per dropped client.</summary>
public enum DropoutRound { Advertise, Share, Mask, Unmask, Any }

/// <summary>
/// SecAgg (<see cref="Degree"/> null: every client a neighbour) and SecAgg+ (a ring of the given degree) as an
/// aggregation-side defence: each client clips, scales by its FedAvg weight w = B / max_weight and quantises its
/// upload, appends w, and takes part in a real protocol round (<see cref="SecAggRound"/>); the server decodes the sum
/// of the survivors and divides by their decoded total weight. The view then holds only that weighted mean.
/// Simulated dropouts remove a fraction of the clients in one round; the result names the survivors, whose inputs the
/// server summed (a real server knows them: it collected their masked inputs and unmasked their sum).
/// </summary>
/// <param name="values">The parameter values the catalog created it with (its canonical name is written from them).</param>
/// <param name="degree">The ring's degree for SecAgg+ (read from <paramref name="values"/> and checked by the catalog), null for SecAgg.</param>
public sealed class SecAgg(ParameterValues values, int? degree) : IAggregationDefense, IWireProtocol
{
    public int? Degree { get; } = degree;
    public double Threshold { get; } = values.Real("threshold");
    public int ModulusBits { get; } = values.Integer("modulus_bits");
    public int QuantBits { get; } = values.Integer("quant_bits");
    public double Clip { get; } = values.Real("clip");
    public double MaxWeight { get; } = values.Real("max_weight");
    public double Dropout { get; } = values.Real("dropout");
    public DropoutRound DropoutRound { get; } = Enum.Parse<DropoutRound>(values.Choice("dropout_phase"), ignoreCase: true);

    public string Id => Degree == null ? "secagg" : "secagg-plus";

    public string Canonical { get; } = values.CanonicalName(degree == null ? "secagg" : "secagg-plus");

    public static string RoundName(DropoutRound round) => round.ToString().ToLowerInvariant();

    /// <summary>t = ⌈threshold·k⌉ of a client's k neighbours, at least 1.</summary>
    public static int SharesNeeded(double fraction, int neighbours) => Math.Clamp((int)Math.Ceiling(fraction * neighbours - 1e-9), 1, neighbours);

    /// <summary>
    /// What a client sends in a round without dropouts (<see cref="SecAggWire"/>): its keys, sealed shares for each
    /// neighbour, the masked vector of the values and its FedAvg weight, and one revealed share per neighbour.
    /// </summary>
    public long ClientBytes(long values, int clients) =>
        SecAggWire.ClientBytes(values + 1, Degree is { } k && k < clients - 1 ? k : clients - 1, Modulus.PowerOfTwo(ModulusBits));

    public Aggregated Aggregate(IReadOnlyList<Update> uploads, IReadOnlyList<double> weights, Rng rng)
    {
        int n = uploads.Count;
        if (n < 2) throw new NotApplicableException($"{Id} needs at least 2 clients to hide one among them; the scenario has {n}");
        var quantizer = new Quantizer(Clip, QuantBits);
        var modulus = Modulus.PowerOfTwo(ModulusBits);
        quantizer.CheckCapacity(n, modulus);
        var clientWeights = weights.Select(w => w / MaxWeight).ToArray();
        if (clientWeights.Max() > Clip)
            throw new InvalidOperationException($"{Id}: a FedAvg weight B / max_weight = {clientWeights.Max()} exceeds the clip range {Clip}; raise max_weight");

        var graph = Degree is { } k ? NeighbourGraph.Ring(n, k, rng) : NeighbourGraph.Complete(n);
        int t = SharesNeeded(Threshold, graph.Of(0).Count);
        var dropouts = Dropouts(n, rng);
        ulong rounding = rng.NextULong();
        var flat = uploads.Select(UpdateVectors.Flatten).ToArray();
        var inputs = new ulong[n][];
        Parallel.For(0, n, u =>
        {
            var values = flat[u];
            var codes = new ulong[values.Length + 1];
            var stream = Rng.For(rounding, u);
            quantizer.Encode(values, clientWeights[u], codes.AsSpan(0, values.Length), stream);
            codes[^1] = quantizer.Encode(clientWeights[u], stream);
            inputs[u] = codes;
        });

        var outcome = SecAggRound.Run(inputs, graph, t, modulus, dropouts, SecretSource.System);
        int survivors = outcome.Survivors.Count;
        double totalWeight = quantizer.Decode(outcome.Sum[^1], survivors);
        var mean = new double[outcome.Sum.Length - 1];
        for (int i = 0; i < mean.Length; i++) mean[i] = quantizer.Decode(outcome.Sum[i], survivors) / totalWeight;
        return new Aggregated(UpdateVectors.Unflatten(uploads[0], mean), outcome.Survivors);
    }

    /// <summary>round(dropout·n) clients drawn without replacement, each dropping in the configured round.</summary>
    private DropoutPhase[] Dropouts(int n, Rng rng)
    {
        var phases = new DropoutPhase[n];
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        int dropped = (int)Math.Round(Dropout * n, MidpointRounding.AwayFromZero);
        foreach (int u in order.Take(dropped))
            phases[u] = (DropoutRound == DropoutRound.Any ? (DropoutRound)rng.NextInt(4) : DropoutRound) switch
            {
                DropoutRound.Advertise => DropoutPhase.AdvertiseKeys,
                DropoutRound.Share => DropoutPhase.ShareKeys,
                DropoutRound.Mask => DropoutPhase.MaskedInput,
                _ => DropoutPhase.Unmask,
            };
        return phases;
    }
}
