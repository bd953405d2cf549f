using System.Globalization;
using System.Text.RegularExpressions;
using DefenseBench.Defenses.Privacy;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Cli;

public sealed partial class PrivacyCommandTests
{
    [GeneratedRegex(@"ε = ([0-9.]+) at δ = \S+, reached at Rényi order ([0-9.]+)")]
    private static partial Regex EpsilonLine();

    [GeneratedRegex(@"noise multiplier z = ([0-9.]+) reaches ε = ([0-9.]+)")]
    private static partial Regex NoiseLine();

    private static (double Epsilon, double Order) Epsilon(params string[] args)
    {
        var result = InProcess.Expect(0, ["privacy", .. args]);
        var match = EpsilonLine().Match(result.Stdout);
        Assert.True(match.Success, result.Output);
        return (double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Two_phases_give_opacus_published_epsilon_at_order_23()
    {
        // Opacus's RDP accountant doctest: phases (q=1e-5, z=1, 10 steps) and (q=1e-4, z=3, 4 steps), orders 2..32,
        // δ = 1e-5 → ε ≈ 0.336 at order 23.
        var (epsilon, order) = Epsilon("--phase", "1e-5,1.0,10", "--phase", "1e-4,3.0,4", "--delta", "1e-5", "--orders", "2-32");

        Assert.Equal(0.336, epsilon, 0.0015);
        Assert.Equal(23, order);
    }

    [Theory]
    [InlineData(1.0, 10)]
    [InlineData(2.5, 100)]
    [InlineData(0.7, 1)]
    public void At_full_sampling_epsilon_is_the_gaussian_closed_form(double z, int steps)
    {
        // q = 1: RDP(α) = T·α/(2z²) exactly; ε = min_α [RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1)] (Balle et al. 2020).
        double delta = 1e-5;
        double expected = RdpAccountant.DefaultOrders
            .Min(a => steps * a / (2 * z * z) + Math.Log((a - 1) / a) - (Math.Log(delta) + Math.Log(a)) / (a - 1));

        var (epsilon, _) = Epsilon("--sample-rate", "1", "--noise-multiplier", z.ToString(CultureInfo.InvariantCulture),
            "--steps", steps.ToString(CultureInfo.InvariantCulture), "--delta", "1e-5");

        Assert.Equal(expected, epsilon, 0.00006);
    }

    [Theory]
    [InlineData(1.0, 0.01, 1000)]
    [InlineData(8.0, 0.05, 200)]
    [InlineData(0.5, 0.004, 10000)]
    public void The_noise_multiplier_for_a_target_epsilon_round_trips(double target, double q, int steps)
    {
        string qText = q.ToString(CultureInfo.InvariantCulture), tText = steps.ToString(CultureInfo.InvariantCulture);
        var result = InProcess.Expect(0, "privacy", "--target-epsilon", target.ToString(CultureInfo.InvariantCulture), "--sample-rate", qText, "--steps", tText);
        var match = NoiseLine().Match(result.Stdout);
        Assert.True(match.Success, result.Output);
        double z = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);

        double reached = Epsilon("--sample-rate", qText, "--noise-multiplier", z.ToString(CultureInfo.InvariantCulture), "--steps", tText).Epsilon;
        double looser = RdpAccountant.Epsilon(q, z - 0.01, steps).Epsilon;

        Assert.InRange(reached, 0.99 * target, target * 1.0001);
        Assert.True(looser > target, $"z - 0.01 = {z - 0.01} still reaches ε = {looser} ≤ {target}: z is not the smallest to 0.01");
    }

    [Theory]
    [InlineData("privacy")]
    [InlineData("privacy", "--sample-rate", "1.5", "--noise-multiplier", "1", "--steps", "10")]
    [InlineData("privacy", "--sample-rate", "0.01", "--noise-multiplier", "1")]
    [InlineData("privacy", "--phase", "0.01,1")]
    [InlineData("privacy", "--phase", "0.01,1,10", "--delta", "2")]
    [InlineData("privacy", "--phase", "0.01,1,10", "--orders", "0.5-3")]
    [InlineData("privacy", "--target-epsilon", "-1", "--sample-rate", "0.01", "--steps", "10")]
    [InlineData("privacy", "--target-epsilon", "1", "--steps", "10")]
    public void Bad_arguments_exit_2_and_say_what_to_write(params string[] args)
    {
        var result = InProcess.Expect(2, args);

        Assert.Contains("write", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }
}
