using DefenseBench.Core.Defenses;
using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Privacy;

namespace DefenseBench.Defenses.Tests.Privacy;

public sealed class RdpAccountantTests
{
    private static readonly double[] TwoToThirtyTwo = Enumerable.Range(2, 31).Select(a => (double)a).ToArray();

    private static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"expected {expected:R}, got {actual:R} (relative tolerance {tolerance})");

    [Fact]
    public void The_opacus_doctest_composes_two_phases_to_0_336_at_order_23()
    {
        var spent = RdpAccountant.Epsilon([new GaussianPhase(1e-5, 1.0, 10), new GaussianPhase(1e-4, 3.0, 4)], 1e-5, TwoToThirtyTwo);

        // Published to three decimals, so it pins ε to ±0.0005.
        Assert.Equal(0.336, Math.Round(spent.Epsilon, 3));
        Assert.Equal(23, spent.Order);
        // The same value by numerical integration of A_α's definition (mpmath, 40 digits): 0.33634406339...
        AssertRelative(0.3363440633925951, spent.Epsilon, 1e-6);
    }

    [Theory]
    [InlineData(0.5, 2.0)]
    [InlineData(1.0, 7.5)]
    [InlineData(3.0, 33.0)]
    public void At_sampling_rate_one_a_step_costs_alpha_over_two_sigma_squared(double sigma, double order) =>
        Assert.Equal(order / (2 * sigma * sigma), RdpAccountant.StepRdp(1.0, sigma, order), 12);

    [Theory]
    [InlineData(0.8, 10L, 1e-5)]
    [InlineData(2.0, 1000L, 1e-6)]
    public void At_sampling_rate_one_epsilon_is_the_closed_form_minimised_over_the_orders(double sigma, long steps, double delta)
    {
        // ε = min_α T·α/(2σ²) + log((α−1)/α) − (log δ + log α)/(α−1), evaluated here without the accountant's code paths.
        double expected = RdpAccountant.DefaultOrders.Min(a =>
            steps * a / (2 * sigma * sigma) + Math.Log((a - 1) / a) - (Math.Log(delta) + Math.Log(a)) / (a - 1));

        Assert.Equal(expected, RdpAccountant.Epsilon(1.0, sigma, steps, delta).Epsilon, 10);
    }

    [Theory]
    [InlineData(0.01, 1.0)]
    [InlineData(0.3, 0.7)]
    [InlineData(1e-4, 2.0)]
    public void Order_two_has_the_closed_form_log_of_one_plus_q_squared_times_e_to_the_one_over_sigma_squared_minus_one(double q, double sigma)
    {
        // A_2 = (1−q)² + 2q(1−q) + q²·e^{1/σ²} = 1 + q²(e^{1/σ²} − 1), and RDP(2) = log A_2 (log(1 + x) by its series
        // where 1 + x would round away the digits of x).
        double x = q * q * (Math.Exp(1 / (sigma * sigma)) - 1);
        double expected = x < 1e-3 ? x - x * x / 2 + x * x * x / 3 - x * x * x * x / 4 : Math.Log(1 + x);

        AssertRelative(expected, RdpAccountant.StepRdp(q, sigma, 2), 1e-9);
    }

    [Theory]
    // log A_α = log E_{z~N(0,σ²)}[((1−q) + q·e^{(2z−1)/(2σ²)})^α] by mpmath quadrature (Mironov et al. 2019, the definition).
    [InlineData(0.01, 1.0, 2.0, 0.00017181342207454794)]
    [InlineData(0.01, 1.0, 2.5, 0.00032636299842282069)]
    [InlineData(0.1, 0.8, 3.7, 0.60029268580608905762)]
    [InlineData(0.004, 1.1, 12.0, 0.0014857248762624245)]
    [InlineData(0.004, 1.1, 1.5, 7.6833573332185823e-6)]
    [InlineData(0.2, 2.0, 7.3, 0.35361456371838400487)]
    public void Integer_and_fractional_orders_match_numerical_integration_of_the_definition(double q, double sigma, double order, double logA)
    {
        // The fractional series stops once its terms fall below e^-30 ≈ 1e-13 (Opacus's rule), which bounds the absolute error.
        double actual = RdpAccountant.StepRdp(q, sigma, order), expected = logA / (order - 1);
        Assert.True(Math.Abs(actual - expected) <= 1e-9 * expected + 1e-12, $"expected {expected:R}, got {actual:R}");
    }

    [Theory]
    // Minimised over Opacus's default orders with each order's RDP from mpmath quadrature.
    [InlineData(0.01, 1.0, 1000L, 1e-5, 2.1013652716483952, 7.8)]
    [InlineData(0.05, 2.0, 300L, 1e-6, 2.3870871741673488, 10.0)]
    public void Dp_sgd_sized_runs_match_values_derived_by_numerical_integration(double q, double sigma, long steps, double delta, double epsilon, double order)
    {
        var spent = RdpAccountant.Epsilon(q, sigma, steps, delta);

        AssertRelative(epsilon, spent.Epsilon, 1e-6);
        Assert.Equal(order, spent.Order, 9);
        Assert.False(spent.OrderAtGridEnd);
    }

    [Fact]
    public void No_sampling_costs_nothing_and_no_noise_costs_everything()
    {
        Assert.Equal(0, RdpAccountant.StepRdp(0, 1.0, 5));
        Assert.Equal(double.PositiveInfinity, RdpAccountant.StepRdp(0.1, 0, 5));
        Assert.Equal(double.PositiveInfinity, RdpAccountant.Epsilon(0.1, 0, 10).Epsilon);
        Assert.Equal(double.PositiveInfinity, RdpAccountant.Epsilon(1.0, 0, 10).Epsilon);
    }

    [Fact]
    public void Phases_compose_order_by_order()
    {
        double[] orders = [1.5, 2, 8, 32];
        var first = new GaussianPhase(0.01, 1.1, 100);
        var second = new GaussianPhase(0.2, 3.0, 7);

        var together = RdpAccountant.Rdp([first, second], orders);
        var apart = RdpAccountant.Rdp([first], orders).Zip(RdpAccountant.Rdp([second], orders), (a, b) => a + b).ToArray();

        Assert.Equal(apart, together);
        Assert.Equal(RdpAccountant.Rdp([first with { Steps = 50 }, first with { Steps = 50 }], orders), RdpAccountant.Rdp([first], orders));
    }

    [Fact]
    public void The_optimal_order_at_an_end_of_the_grid_is_flagged()
    {
        // Very little privacy loss pushes the optimum to the largest order.
        Assert.True(RdpAccountant.Epsilon(1e-6, 5.0, 1).OrderAtGridEnd);
        Assert.Equal(63, RdpAccountant.Epsilon(1e-6, 5.0, 1).Order);
    }

    [Fact]
    public void Epsilon_falls_as_the_noise_multiplier_grows()
    {
        var rng = new Rng(41);
        for (int trial = 0; trial < 25; trial++)
        {
            double q = Math.Pow(10, rng.Uniform(-4, 0));
            long steps = 1 + rng.NextInt(5000);
            double sigma = rng.Uniform(0.3, 4);
            double lower = RdpAccountant.Epsilon(q, sigma, steps).Epsilon;
            double higher = RdpAccountant.Epsilon(q, sigma * rng.Uniform(1.05, 2), steps).Epsilon;
            Assert.True(higher < lower, $"q={q}, steps={steps}, sigma={sigma}: {higher} !< {lower}");
        }
    }

    [Fact]
    public void Epsilon_grows_with_the_number_of_steps()
    {
        var rng = new Rng(42);
        for (int trial = 0; trial < 25; trial++)
        {
            double q = Math.Pow(10, rng.Uniform(-4, 0));
            double sigma = rng.Uniform(0.3, 4);
            long steps = 1 + rng.NextInt(5000);
            double fewer = RdpAccountant.Epsilon(q, sigma, steps).Epsilon;
            double more = RdpAccountant.Epsilon(q, sigma, steps + 1 + rng.NextInt(5000)).Epsilon;
            Assert.True(more > fewer, $"q={q}, steps={steps}, sigma={sigma}: {more} !> {fewer}");
        }
    }

    [Theory]
    [InlineData(1.0, 0.01, 1000L)]
    [InlineData(8.0, 0.004, 10000L)]
    [InlineData(0.5, 1.0, 20L)]
    public void The_inverse_finds_the_smallest_noise_multiplier_to_a_hundredth(double target, double q, long steps)
    {
        double sigma = RdpAccountant.NoiseMultiplier(target, q, steps);

        double reached = RdpAccountant.Epsilon(q, sigma, steps).Epsilon;
        Assert.True(reached <= target, $"ε(σ={sigma}) = {reached} > {target}");
        Assert.True(reached >= 0.99 * target, $"ε(σ={sigma}) = {reached} is not within 1 % of {target}");
        Assert.True(RdpAccountant.Epsilon(q, sigma - 0.01, steps).Epsilon > target, "a noise multiplier 0.01 smaller still meets the target");
    }

    [Theory]
    [InlineData(0.5, 0.47950012218695346, -0.7350111298370844)]
    [InlineData(2.0, 0.0046777349810472658, -5.3649412646166376)]
    [InlineData(3.0, 2.2090496998585441e-5, -10.720363041981113)]
    [InlineData(10.0, 2.0884875837625448e-45, -102.87988902484489)]
    [InlineData(-1.0, 1.8427007929497149, 0.61123231767807049)]
    [InlineData(30.0, 0.0, -903.97411711064388)]
    public void Erfc_and_its_logarithm_match_reference_values_far_into_the_tail(double x, double erfc, double logErfc)
    {
        if (erfc > 0) AssertRelative(erfc, RdpAccountant.Erfc(x), 1e-11);
        AssertRelative(logErfc, RdpAccountant.LogErfc(x), 1e-12);
    }

    [Fact]
    public void Opacus_default_orders_are_one_point_one_to_ten_point_nine_then_twelve_to_sixty_three()
    {
        Assert.Equal(99 + 52, RdpAccountant.DefaultOrders.Count);
        Assert.Equal(1.1, RdpAccountant.DefaultOrders[0]);
        Assert.Equal(10.9, RdpAccountant.DefaultOrders[98], 12);
        Assert.Equal(12, RdpAccountant.DefaultOrders[99]);
        Assert.Equal(63, RdpAccountant.DefaultOrders[^1]);
    }
}
