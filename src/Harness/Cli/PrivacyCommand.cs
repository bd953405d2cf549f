using System.CommandLine;
using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Defenses.Privacy;

namespace DefenseBench.Harness.Cli;

/// <summary>
/// `privacy`: the designer's question before any run, answered by the accountant the DP defences use
/// (<see cref="RdpAccountant"/>): ε at δ for one or more Gaussian phases, or the noise multiplier that reaches a target ε.
/// </summary>
internal static class PrivacyCommand
{
    public static Command Create(TextWriter output)
    {
        var rate = new Option<double?>("--sample-rate") { Description = "q: the share of examples (or clients) in each step, in (0, 1]" };
        var noise = new Option<double?>("--noise-multiplier") { Description = "z: noise standard deviation divided by the clipping norm" };
        var steps = new Option<long?>("--steps") { Description = "T: how many steps run at that rate and noise" };
        var phase = new Option<string[]>("--phase")
        {
            Description = "a phase q,z,T (repeat to compose phases of different rate or noise; instead of the three options above)",
            AllowMultipleArgumentsPerToken = false,
        };
        var delta = new Option<double>("--delta") { Description = "δ of the (ε, δ) guarantee", DefaultValueFactory = _ => RdpAccountant.DefaultDelta };
        var target = new Option<double?>("--target-epsilon") { Description = "print a noise multiplier within 0.01 of the smallest whose ε stays at or below this, for --sample-rate and --steps" };
        var orders = new Option<string>("--orders")
        {
            Description = "Rényi orders to minimise over: 'opacus' (1.1, 1.2, …, 10.9, 12, …, 63), a range '2-32' or a list '2,4,8.5'",
            DefaultValueFactory = _ => "opacus",
        };
        var command = new Command("privacy",
            "ε at δ for the sampled Gaussian mechanism (DP-SGD, DP-FedAvg), from the Rényi-DP accountant the DP defences use. " +
            "Opacus's conventions: its default orders, RDP composed over phases, and the tighter RDP-to-(ε, δ) conversion of " +
            "Balle et al. 2020 (Thm 21), the one Opacus's RDPAccountant uses. With --target-epsilon, the noise multiplier that reaches it.")
        {
            rate, noise, steps, phase, delta, target, orders,
        };
        command.SetAction(parse =>
        {
            double d = parse.GetValue(delta);
            if (!(d is > 0 and < 1)) throw new InputException($"--delta {Format(d)} is out of range", "write a δ in (0, 1), e.g. --delta 1e-5");
            var grid = ParseOrders(parse.GetValue(orders)!);
            double? epsilon = parse.GetValue(target);
            if (epsilon != null)
            {
                if (!(epsilon > 0) || double.IsInfinity(epsilon.Value))
                    throw new InputException($"--target-epsilon {Format(epsilon.Value)} is out of range", "write a positive ε, e.g. --target-epsilon 1");
                double q = Required(parse.GetValue(rate), "--sample-rate", "--target-epsilon");
                long t = Required(parse.GetValue(steps), "--steps", "--target-epsilon");
                Check(new GaussianPhase(q, 1, t));
                double z;
                try
                {
                    z = RdpAccountant.NoiseMultiplier(epsilon.Value, q, t, d, grid);
                }
                catch (ArgumentOutOfRangeException)
                {
                    throw new InputException(
                        $"no noise multiplier up to 1e6 reaches ε = {Format(epsilon.Value)} at δ = {Format(d)} (q = {Format(q)}, T = {t})",
                        "raise --target-epsilon or --delta, or lower --sample-rate or --steps");
                }
                var reached = RdpAccountant.Epsilon(q, z, t, d, grid);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"noise multiplier z = {z:0.0000} reaches ε = {reached.Epsilon:0.0000} ≤ {Format(epsilon.Value)} at δ = {Format(d)} (q = {Format(q)}, T = {t}, Rényi order {Format(reached.Order)})"));
                return 0;
            }
            var phases = Phases(parse.GetValue(phase) ?? [], parse.GetValue(rate), parse.GetValue(noise), parse.GetValue(steps));
            var spent = RdpAccountant.Epsilon(phases, d, grid);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ε = {spent.Epsilon:0.0000} at δ = {Format(d)}, reached at Rényi order {Format(spent.Order)}"));
            foreach (var p in phases)
                output.WriteLine($"  phase: q = {Format(p.SampleRate)}, z = {Format(p.NoiseMultiplier)}, T = {p.Steps}");
            if (spent.OrderAtGridEnd)
                output.WriteLine("  note: the best order is at an end of the order grid; a wider --orders may give a smaller ε");
            return 0;
        });
        return command;
    }

    /// <summary>The phases the user wrote: every --phase q,z,T, or one phase from --sample-rate, --noise-multiplier and --steps.</summary>
    public static List<GaussianPhase> Phases(IReadOnlyList<string> written, double? q, double? z, long? t)
    {
        var phases = new List<GaussianPhase>();
        foreach (string text in written)
        {
            string[] parts = text.Split(',');
            if (parts.Length != 3 || !ParameterSpec.TryParseReal(parts[0], out double pq) || !ParameterSpec.TryParseReal(parts[1], out double pz)
                || !long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out long pt))
                throw new InputException($"--phase {text} is not q,z,T", "write each phase as rate,noise,steps, e.g. --phase 1e-5,1.0,10");
            phases.Add(new GaussianPhase(pq, pz, pt));
        }
        if (q != null || z != null || t != null)
            phases.Add(new GaussianPhase(Required(q, "--sample-rate", "--steps"), Required(z, "--noise-multiplier", "--sample-rate"), Required(t, "--steps", "--sample-rate")));
        if (phases.Count == 0)
            throw new InputException("no phase given", "write --sample-rate Q --noise-multiplier Z --steps T, or one --phase q,z,T per phase");
        foreach (var p in phases) Check(p);
        return phases;
    }

    /// <summary>Rényi orders from 'opacus', 'A-B' (every integer from A to B) or 'a,b,c'; each must be > 1.</summary>
    public static IReadOnlyList<double> ParseOrders(string text)
    {
        const string Fix = "write --orders opacus, a range of integers such as 2-32, or a list such as 2,4,8.5 (every order > 1)";
        if (text == "opacus") return RdpAccountant.DefaultOrders;
        List<double> orders;
        string[] range = text.Split('-');
        if (range.Length == 2 && int.TryParse(range[0], CultureInfo.InvariantCulture, out int from) && int.TryParse(range[1], CultureInfo.InvariantCulture, out int to) && to >= from)
            orders = Enumerable.Range(from, (int)Math.Min((long)to - from + 1, RdpAccountant.MaxOrders + 1L)).Select(a => (double)a).ToList();
        else
        {
            orders = [];
            foreach (string part in text.Split(','))
                orders.Add(ParameterSpec.TryParseReal(part, out double a) ? a : throw new InputException($"--orders {text} cannot be read", Fix));
        }
        if (orders.Count == 0 || orders.Any(a => !(a > 1) || double.IsInfinity(a))) throw new InputException($"--orders {text} has an order ≤ 1", Fix);
        if (orders.Count > RdpAccountant.MaxOrders || orders.Max() > RdpAccountant.MaxOrder)
            throw new InputException($"--orders {text} asks for {orders.Count} orders up to {Format(orders.Max())}",
                $"write at most {RdpAccountant.MaxOrders} orders, each at most {RdpAccountant.MaxOrder} (the best order of any practical setting lies far below)");
        return orders;
    }

    private static void Check(GaussianPhase p)
    {
        if (!(p.SampleRate is >= RdpAccountant.MinSampleRate and <= 1))
            throw new InputException($"sample rate {Format(p.SampleRate)} is out of range",
                $"write a sampling rate q in [{Format(RdpAccountant.MinSampleRate)}, 1], e.g. batch size / dataset size");
        if (!(p.NoiseMultiplier >= 0) || double.IsInfinity(p.NoiseMultiplier))
            throw new InputException($"noise multiplier {Format(p.NoiseMultiplier)} is out of range", "write a noise multiplier z ≥ 0");
        if (p.Steps < 1) throw new InputException($"{p.Steps} steps", "write a number of steps T ≥ 1");
    }

    private static T Required<T>(T? value, string name, string with) where T : struct =>
        value ?? throw new InputException($"{with} needs {name}", $"write {name} too");

    private static string Format(double x) => ParameterSpec.FormatReal(x);
}
