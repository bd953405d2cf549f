using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>The round in which a client drops out: it sends nothing in that round or later.</summary>
public enum DropoutPhase
{
    /// <summary>Stays to the end.</summary>
    None,

    /// <summary>Never advertises keys: it takes no part at all.</summary>
    AdvertiseKeys,

    /// <summary>Advertises keys but sends no shares: nobody masks with it.</summary>
    ShareKeys,

    /// <summary>Shares its secrets but sends no masked input: the server rebuilds its mask key to cancel its neighbours' pairwise masks.</summary>
    MaskedInput,

    /// <summary>Sends its masked input but does not answer the unmask request: its input counts, its neighbours reveal its self-mask seed.</summary>
    Unmask,
}

/// <summary>Wall-clock time of the protocol's phases.</summary>
public sealed record SecAggTimings(TimeSpan Keys, TimeSpan Masking, TimeSpan Unmasking)
{
    public TimeSpan Total => Keys + Masking + Unmasking;
}

/// <summary>
/// The round's result: Σ_{u ∈ Survivors} x_u mod R and who survived (U3), with what the server saw on the way (the
/// masked inputs and the revealed shares) for audits.
/// </summary>
public sealed record SecAggOutcome(ulong[] Sum, IReadOnlyList<int> Survivors, IReadOnlyDictionary<int, ulong[]> MaskedInputs,
    IReadOnlyList<RevealedShare> Revealed, SecAggTimings Timings);

/// <summary>
/// One round of SecAgg / SecAgg+ between simulated clients and the server, with every message passing through the
/// server: advertise keys, share keys, masked input, unmask. Clients work in parallel (they are separate devices);
/// each draws its secrets from its own stream of <paramref name="secrets"/>, so a deterministic source gives a
/// reproducible transcript.
/// </summary>
public static class SecAggRound
{
    public static SecAggOutcome Run(IReadOnlyList<ulong[]> inputs, NeighbourGraph graph, int threshold, Modulus modulus,
        IReadOnlyList<DropoutPhase> dropouts, SecretSource secrets)
    {
        int n = inputs.Count;
        if (graph.Clients != n || dropouts.Count != n) throw new ArgumentException($"{n} inputs, a graph of {graph.Clients} clients and {dropouts.Count} dropout phases");
        int length = inputs.Count == 0 ? 0 : inputs[0].Length;
        if (inputs.Any(x => x.Length != length)) throw new ArgumentException("every input must have the same length", nameof(inputs));
        if (inputs.Any(x => x.Any(v => v >= modulus.R))) throw new ArgumentException($"inputs must be residues in [0, {modulus})", nameof(inputs));

        bool Sends(int client, DropoutPhase phase) => dropouts[client] == DropoutPhase.None || dropouts[client] > phase;
        int[] From(DropoutPhase phase, IEnumerable<int> among) => among.Where(u => Sends(u, phase)).ToArray();

        var server = new SecAggServer(graph, threshold, modulus, length);
        var clients = new SecAggClient[n];
        try
        {
            var clock = Stopwatch.StartNew();
            var advertising = From(DropoutPhase.AdvertiseKeys, Enumerable.Range(0, n));
            InParallel(advertising, u =>
            {
                clients[u] = new SecAggClient(u, graph.Of(u), threshold, secrets.For(u));
                server.ReceiveKeys(clients[u].Advertise());
            });
            var sharing = From(DropoutPhase.ShareKeys, advertising);
            InParallel(sharing, u => server.ReceiveShares(u, clients[u].ShareKeys(server.KeysFor(u))));
            var keys = clock.Elapsed;

            clock.Restart();
            InParallel(From(DropoutPhase.MaskedInput, sharing), u =>
                server.ReceiveMaskedInput(u, clients[u].MaskedInput(inputs[u], server.SharesFor(u), modulus)));
            var masking = clock.Elapsed;

            clock.Restart();
            var request = server.UnmaskRequest();
            InParallel(From(DropoutPhase.Unmask, server.Survivors), u => server.ReceiveUnmask(clients[u].Unmask(request)));
            var sum = server.Unmask();
            return new SecAggOutcome(sum, server.Survivors, server.MaskedInputs, server.Revealed, new SecAggTimings(keys, masking, clock.Elapsed));
        }
        finally
        {
            foreach (var client in clients) client?.Dispose();
        }
    }

    /// <summary>
    /// Runs every client's step in parallel. A failure surfaces as itself, not wrapped; when several clients fail, the
    /// lowest-numbered one's, so the message does not depend on thread timing.
    /// </summary>
    private static void InParallel(IReadOnlyList<int> participants, Action<int> step)
    {
        var failures = new ConcurrentDictionary<int, Exception>();
        Parallel.ForEach(participants, u =>
        {
            try
            {
                step(u);
            }
            catch (Exception e)
            {
                failures[u] = e;
            }
        });
        if (!failures.IsEmpty) ExceptionDispatchInfo.Capture(failures.MinBy(f => f.Key).Value).Throw();
    }
}
