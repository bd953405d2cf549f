using DefenseBench.Core.Defenses;

namespace DefenseBench.Defenses.Privacy;

/// <summary>ε at δ, the Rényi order α where the minimum is reached, and whether α sits at an end of the order grid.</summary>
public sealed record PrivacySpent(double Epsilon, double Delta, double Order, bool OrderAtGridEnd);

/// <summary>
/// Rényi-DP accountant for the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019), with Opacus's and TF
/// Privacy's conventions (docs/defences.md, the accountant): per-step RDP at integer and fractional orders in log space, composition
/// over phases, conversion to (ε, δ) by Balle et al. 2020 Thm 21, and the inverse (noise multiplier for a target ε).
/// Pure functions of plain numbers.
/// </summary>
public static class RdpAccountant
{
    public const double DefaultDelta = 1e-5;

    /// <summary>Opacus's default orders: 1.1, 1.2, …, 10.9 and 12, 13, …, 63.</summary>
    /// <summary>The smallest sampling rate accounted: below it 1/q leaves double precision and the series do not end.</summary>
    public const double MinSampleRate = 1e-300;

    /// <summary>The largest Rényi order and the most orders accounted: the work grows with their sum (log A_α has α + 1 terms).</summary>
    public const int MaxOrder = 128, MaxOrders = 128;

    public static readonly IReadOnlyList<double> DefaultOrders =
        [.. Enumerable.Range(1, 99).Select(x => 1 + x / 10.0), .. Enumerable.Range(12, 52).Select(a => (double)a)];

    /// <summary>ε at <paramref name="delta"/> after every phase, minimised over <paramref name="orders"/> (default: Opacus's).</summary>
    public static PrivacySpent Epsilon(IEnumerable<GaussianPhase> phases, double delta = DefaultDelta, IReadOnlyList<double>? orders = null)
    {
        orders ??= DefaultOrders;
        return ToEpsilon(orders, Rdp(phases, orders), delta);
    }

    /// <summary>ε after <paramref name="steps"/> steps at sampling rate <paramref name="q"/> and noise multiplier <paramref name="sigma"/>.</summary>
    public static PrivacySpent Epsilon(double q, double sigma, long steps, double delta = DefaultDelta, IReadOnlyList<double>? orders = null) =>
        Epsilon([new GaussianPhase(q, sigma, steps)], delta, orders);

    /// <summary>Composition: RDP_total(α) = Σ_phases T_p · RDP_p(α), order by order.</summary>
    public static double[] Rdp(IEnumerable<GaussianPhase> phases, IReadOnlyList<double> orders)
    {
        var total = new double[orders.Count];
        foreach (var phase in phases)
        {
            if (phase.Steps == 0) continue;
            for (int i = 0; i < orders.Count; i++) total[i] += phase.Steps * StepRdp(phase.SampleRate, phase.NoiseMultiplier, orders[i]);
        }
        return total;
    }

    /// <summary>RDP of one step at order α: 0 at q = 0, ∞ at σ = 0, α/(2σ²) at q = 1, else log(A_α)/(α − 1).</summary>
    public static double StepRdp(double q, double sigma, double order)
    {
        if (q is < 0 or > 1 || double.IsNaN(q)) throw new ArgumentOutOfRangeException(nameof(q), q, "the sampling rate must be in [0, 1]");
        if (sigma < 0 || double.IsNaN(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "the noise multiplier must be >= 0");
        if (!(order > 1)) throw new ArgumentOutOfRangeException(nameof(order), order, "Rényi orders must be > 1");
        if (q == 0) return 0;
        if (sigma == 0 || double.IsPositiveInfinity(order)) return double.PositiveInfinity;
        if (q == 1) return order / (2 * sigma * sigma);
        // Beyond this σ², σ²·ln(1/q) overflows and the fractional series never ends; α/(2σ²), the unsampled
        // mechanism's RDP, bounds the subsampled one from above and is below 1e-290 here, so ε stays sound.
        if (sigma > 1e150) return order / (2 * sigma * sigma);
        if (q < MinSampleRate) throw new ArgumentOutOfRangeException(nameof(q), q, $"sampling rates below {MinSampleRate} are not supported (1/q overflows)");
        double logA = order == Math.Floor(order) ? LogAInteger(q, sigma, (int)order) : LogAFractional(q, sigma, order);
        return logA / (order - 1);
    }

    /// <summary>
    /// Balle et al. 2020, Thm 21: ε = min_α [RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1)] (tighter than the classic
    /// RDP(α) + log(1/δ)/(α−1)). Orders whose value is NaN are skipped; no finite value gives ε = ∞.
    /// </summary>
    public static PrivacySpent ToEpsilon(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double delta)
    {
        if (orders.Count == 0 || orders.Count != rdp.Count) throw new ArgumentException("one RDP value per order is needed", nameof(rdp));
        if (!(delta is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in (0, 1)");
        int best = -1;
        double bestEpsilon = double.PositiveInfinity;
        for (int i = 0; i < orders.Count; i++)
        {
            double a = orders[i];
            double eps = rdp[i] + Math.Log((a - 1) / a) - (Math.Log(delta) + Math.Log(a)) / (a - 1);
            if (double.IsNaN(eps)) continue;
            if (best < 0 || eps < bestEpsilon)
            {
                best = i;
                bestEpsilon = eps;
            }
        }
        if (best < 0) return new PrivacySpent(double.PositiveInfinity, delta, double.NaN, false);
        return new PrivacySpent(bestEpsilon, delta, orders[best], double.IsFinite(bestEpsilon) && (best == 0 || best == orders.Count - 1));
    }

    /// <summary>
    /// The smallest noise multiplier (to <paramref name="tolerance"/>) whose ε after <paramref name="steps"/> steps at
    /// rate <paramref name="q"/> stays at or below <paramref name="targetEpsilon"/>: double an upper bound until ε falls
    /// below the target, then bisect until the bracket is narrower than the tolerance and ε is within 1 % of the target.
    /// The upper end of the bracket is returned, so ε(result) ≤ target always holds.
    /// </summary>
    public static double NoiseMultiplier(double targetEpsilon, double q, long steps, double delta = DefaultDelta,
        IReadOnlyList<double>? orders = null, double tolerance = 0.01)
    {
        if (!(targetEpsilon > 0) || double.IsPositiveInfinity(targetEpsilon))
            throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "the target ε must be a positive number");
        orders ??= DefaultOrders;
        double Eps(double sigma) => Epsilon(q, sigma, steps, delta, orders).Epsilon;
        double low = 0, high = 10, epsHigh = Eps(high);
        while (epsHigh > targetEpsilon)
        {
            low = high;
            high *= 2;
            if (high > 1e6) throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, $"no noise multiplier up to 1e6 reaches ε = {targetEpsilon}");
            epsHigh = Eps(high);
        }
        for (int i = 0; i < 200 && (high - low > tolerance || targetEpsilon - epsHigh > 0.01 * targetEpsilon); i++)
        {
            double mid = (low + high) / 2;
            double eps = Eps(mid);
            if (eps <= targetEpsilon)
            {
                high = mid;
                epsHigh = eps;
            }
            else
            {
                low = mid;
            }
        }
        return high;
    }

    /// <summary>log A_α for integer α: log Σ_{i=0..α} C(α,i) q^i (1−q)^{α−i} exp((i²−i)/(2σ²)), by log-sum-exp.</summary>
    public static double LogAInteger(double q, double sigma, int alpha)
    {
        double logA = double.NegativeInfinity;
        for (int i = 0; i <= alpha; i++)
        {
            double term = LogBinomial(alpha, i) + i * Math.Log(q) + (alpha - i) * Log1p(-q) + (i * (double)i - i) / (2 * sigma * sigma);
            logA = LogAdd(logA, term);
        }
        return logA;
    }

    /// <summary>
    /// log A_α for fractional α (Mironov et al. 2019, §3.3): two series over i = 0, 1, … with the generalised binomial
    /// C(α,i) and z₀ = σ²·ln(1/q − 1) + ½, stopped once both log-terms fall below −30; negative binomials subtract.
    /// </summary>
    public static double LogAFractional(double q, double sigma, double alpha)
    {
        double logA0 = double.NegativeInfinity, logA1 = double.NegativeInfinity;
        double z0 = sigma * sigma * Math.Log(1 / q - 1) + 0.5;
        double coefficient = 1; // C(α, 0)
        for (int i = 0; ; i++)
        {
            if (i > 0) coefficient *= (alpha - (i - 1)) / i;
            double logCoefficient = Math.Log(Math.Abs(coefficient));
            double j = alpha - i;
            double logT0 = logCoefficient + i * Math.Log(q) + j * Log1p(-q);
            double logT1 = logCoefficient + j * Math.Log(q) + i * Log1p(-q);
            double logE0 = Math.Log(0.5) + LogErfc((i - z0) / (Math.Sqrt(2) * sigma));
            double logE1 = Math.Log(0.5) + LogErfc((z0 - j) / (Math.Sqrt(2) * sigma));
            double logS0 = logT0 + (i * (double)i - i) / (2 * sigma * sigma) + logE0;
            double logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
            if (coefficient > 0)
            {
                logA0 = LogAdd(logA0, logS0);
                logA1 = LogAdd(logA1, logS1);
            }
            else
            {
                logA0 = LogSub(logA0, logS0);
                logA1 = LogSub(logA1, logS1);
            }
            if (Math.Max(logS0, logS1) < -30 || i > 100_000) break;
        }
        return LogAdd(logA0, logA1);
    }

    /// <summary>log(e^a + e^b) without overflow.</summary>
    public static double LogAdd(double a, double b)
    {
        double high = Math.Max(a, b), low = Math.Min(a, b);
        return double.IsNegativeInfinity(low) ? high : high + Log1p(Math.Exp(low - high));
    }

    /// <summary>log(e^a − e^b) for a ≥ b (NaN when the difference would be negative).</summary>
    public static double LogSub(double a, double b)
    {
        if (double.IsNegativeInfinity(b)) return a;
        if (a < b) return double.NaN;
        if (a == b) return double.NegativeInfinity;
        // Far apart, a + log(1 − e^{b−a}) keeps the rounding at the scale of a (the series' terms fall to e^-30 while
        // their sum stays near 1); close together, b + log(e^{a−b} − 1) avoids taking the log of a difference near 0.
        return a - b > Math.Log(2) ? a + Log1p(-Math.Exp(b - a)) : b + Math.Log(Expm1(a - b));
    }

    /// <summary>e^x − 1 without cancellation for small x (System.Math has no expm1).</summary>
    private static double Expm1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;

    /// <summary>
    /// log(1 + x) without losing the digits of a small x (System.Math has no log1p): with u = 1 + x rounded,
    /// log(u)·x/(u − 1) cancels the rounding error of u (Goldberg 1991, Theorem 4).
    /// </summary>
    private static double Log1p(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>log C(n, k) for 0 ≤ k ≤ n as a sum of logs (exact enough for the orders used here, n ≤ a few hundred).</summary>
    public static double LogBinomial(int n, int k)
    {
        k = Math.Min(k, n - k);
        double sum = 0;
        for (int j = 1; j <= k; j++) sum += Math.Log((double)(n - k + j) / j);
        return sum;
    }

    /// <summary>log erfc(x), stable for large positive x, where erfc underflows (continued fraction of e^{x²}·erfc(x)).</summary>
    public static double LogErfc(double x) => x < 2 ? Math.Log(Erfc(x)) : -x * x + Math.Log(ErfcScaledTail(x)) - 0.5 * Math.Log(Math.PI);

    /// <summary>erfc(x): the power series of erf for |x| &lt; 2 (relative error ~1e-12 at worst), the continued fraction beyond.</summary>
    public static double Erfc(double x)
    {
        if (x < 0) return 2 - Erfc(-x);
        if (x >= 2) return Math.Exp(-x * x) * ErfcScaledTail(x) / Math.Sqrt(Math.PI);
        // erf(x) = 2/√π Σ_n (−1)^n x^{2n+1} / (n! (2n+1))
        double term = x, sum = x, x2 = x * x;
        for (int n = 1; n < 200; n++)
        {
            term *= -x2 / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
        }
        return 1 - 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <summary>
    /// √π·e^{x²}·erfc(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (Abramowitz and Stegun 7.1.14), by the modified
    /// Lentz algorithm; converges quickly for x ≥ 2.
    /// </summary>
    private static double ErfcScaledTail(double x)
    {
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 10_000; n++)
        {
            double a = n / 2.0;
            d = x + a * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + a / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return 1 / f;
    }
}
