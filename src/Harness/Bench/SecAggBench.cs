using System.Diagnostics;
using System.Globalization;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.SecureAggregation;
using DefenseBench.Harness.Diagnostics;

namespace DefenseBench.Harness.Bench;

/// <summary>One timed round: encoding, the protocol's phases, decoding, and whether the decoded sum was exact.</summary>
public sealed record SecAggRoundTiming(TimeSpan Encode, SecAggTimings Protocol, TimeSpan Decode, bool Exact)
{
    public TimeSpan Total => Encode + Protocol.Total + Decode;
}

/// <summary>Single-core throughput of the mask PRG: raw AES-CTR keystream, and residues mod R added into a vector.</summary>
public sealed record PrgThroughput(double KeystreamMBps, double MaskMBps);

/// <summary>
/// Times whole SecAgg+ rounds as a deployment would run them: every client quantises a random update, makes two
/// P-256 key pairs, Shamir-shares and encrypts its secrets, masks its input with AES-CTR masks; the server unmasks
/// (rebuilding secrets from shares) and decodes. Checks that the decoded code sum equals the plain sum of the
/// survivors' codes, and measures the mask PRG alone on one core.
/// </summary>
public static class SecAggBench
{
    public sealed record Settings(int Clients, int Parameters, int Degree, double Threshold, double Dropout, int Runs);

    public static IEnumerable<SecAggRoundTiming> Rounds(Settings s)
    {
        var quantizer = new Quantizer(8, 22);
        var modulus = Modulus.PowerOfTwo(32);
        quantizer.CheckCapacity(s.Clients, modulus);
        var rng = new Rng(1);
        var values = Enumerable.Range(0, s.Clients)
            .Select(_ => Enumerable.Range(0, s.Parameters).Select(_ => (float)(0.01 * rng.NextGaussian())).ToArray())
            .ToArray();
        for (int run = 0; run < s.Runs + 1; run++) // the first round warms up and is not reported
        {
            var graph = NeighbourGraph.Ring(s.Clients, s.Degree, Rng.For(2, run));
            int threshold = SecAgg.SharesNeeded(s.Threshold, graph.Of(0).Count);
            var dropouts = new DropoutPhase[s.Clients];
            foreach (int u in Enumerable.Range(0, s.Clients).OrderBy(_ => rng.NextULong()).Take((int)Math.Round(s.Dropout * s.Clients)))
                dropouts[u] = DropoutPhase.MaskedInput;

            var clock = Stopwatch.StartNew();
            var codes = new ulong[s.Clients][];
            Parallel.For(0, s.Clients, u =>
            {
                codes[u] = new ulong[s.Parameters];
                quantizer.Encode(values[u], 1.0, codes[u], Rng.For(3, run, u));
            });
            var encode = clock.Elapsed;

            var outcome = SecAggRound.Run(codes, graph, threshold, modulus, dropouts, SecretSource.System);

            clock.Restart();
            var decoded = outcome.Sum.Select(v => quantizer.Decode(v, outcome.Survivors.Count)).ToArray();
            var decode = clock.Elapsed;

            var plain = new ulong[s.Parameters];
            foreach (int u in outcome.Survivors) modulus.AddTo(plain, codes[u]);
            if (run > 0) yield return new SecAggRoundTiming(encode, outcome.Timings, decode, plain.AsSpan().SequenceEqual(outcome.Sum) && decoded.Length == s.Parameters);
        }
    }

    public static PrgThroughput Prg(int megabytes)
    {
        var key = SecretSource.Deterministic("bench").Bytes(MaskPrg.KeySize);
        var buffer = new byte[1 << 20];
        using (var warm = new MaskPrg(key)) warm.Keystream(buffer);
        var clock = Stopwatch.StartNew();
        using (var prg = new MaskPrg(key))
            for (int i = 0; i < megabytes; i++) prg.Keystream(buffer);
        double keystream = megabytes * (1 << 20) / clock.Elapsed.TotalSeconds / 1e6;

        var residues = new ulong[1 << 18]; // 1 MiB of keystream per pass at 4 bytes per residue
        clock.Restart();
        using (var prg = new MaskPrg(key))
            for (int i = 0; i < megabytes; i++) prg.Mask(residues, Modulus.PowerOfTwo(32));
        double masks = megabytes * (1 << 20) / clock.Elapsed.TotalSeconds / 1e6;
        return new PrgThroughput(keystream, masks);
    }

    public static string Table(Settings s, IReadOnlyList<SecAggRoundTiming> rounds, PrgThroughput prg)
    {
        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"secagg-plus round: {s.Clients} clients, {s.Parameters} parameters, degree {s.Degree}, threshold {s.Threshold}, dropout {s.Dropout} (before the masked input), R = 2^32, Q = 2^22"),
            "run  encode_ms  keys_ms  masking_ms  unmask_ms  decode_ms  total_ms  exact",
        };
        lines.AddRange(rounds.Select((r, i) =>
            $"{i + 1,3}  {Ms(r.Encode),9}  {Ms(r.Protocol.Keys),7}  {Ms(r.Protocol.Masking),10}  {Ms(r.Protocol.Unmasking),9}  {Ms(r.Decode),9}  {Ms(r.Total),8}  {(r.Exact ? "yes" : "NO")}"));
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"median total: {Timing.Median(rounds.Select(r => r.Total.TotalMilliseconds).ToArray()):F0} ms over {rounds.Count} rounds ({Environment.ProcessorCount} cores)"));
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"mask PRG on one core: AES-256-CTR keystream {prg.KeystreamMBps:F0} MB/s; residues mod 2^32 added into a vector {prg.MaskMBps:F0} MB/s of keystream"));
        return string.Join("\n", lines) + "\n";
    }
}
