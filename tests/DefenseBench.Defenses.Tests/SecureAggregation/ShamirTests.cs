using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

public sealed class ShamirTests
{
    private static readonly int[] Points = [1, 2, 3, 5, 8, 13];

    private static IEnumerable<int[]> Subsets(int n, int size) =>
        size == 0 ? [[]] : Enumerable.Range(0, n).SelectMany(first => Subsets(n, size - 1).Where(rest => rest.All(r => r > first)).Select(rest => rest.Prepend(first).ToArray()));

    [Fact]
    public void Every_set_of_t_shares_rebuilds_the_secret()
    {
        var secret = SecretSource.Deterministic("secret").Bytes(32);
        var shares = Shamir.Split(secret, 3, Points, SecretSource.Deterministic("coefficients"));

        foreach (var subset in Subsets(Points.Length, 3))
            Assert.Equal(secret, Shamir.Combine(subset.Select(i => shares[i]).ToArray(), 32));
        Assert.Equal(secret, Shamir.Combine(shares, 32));
    }

    [Fact]
    public void Fewer_than_t_shares_do_not_rebuild_the_secret()
    {
        var secret = SecretSource.Deterministic("secret").Bytes(32);
        var shares = Shamir.Split(secret, 3, Points, SecretSource.Deterministic("coefficients"));

        foreach (var subset in Subsets(Points.Length, 2))
            Assert.NotEqual(secret, Shamir.Combine(subset.Select(i => shares[i]).ToArray(), Shamir.ElementSize)[^32..]);
    }

    [Fact]
    public void A_threshold_of_one_hands_every_holder_the_secret_itself()
    {
        var secret = new byte[] { 0, 0, 7, 255 };

        var shares = Shamir.Split(secret, 1, Points, SecretSource.Deterministic("t1"));

        Assert.All(shares, s => Assert.Equal(Shamir.FromBytes(secret), s.Y));
    }

    [Fact]
    public void Leading_zero_bytes_and_the_largest_secrets_survive_the_round_trip()
    {
        var zeros = new byte[32];
        zeros[31] = 1;
        var largest = Enumerable.Repeat((byte)0xFF, Shamir.MaxSecretSize).ToArray();

        foreach (var secret in new[] { zeros, largest })
        {
            var shares = Shamir.Split(secret, 4, Points, SecretSource.Deterministic("sizes"));
            Assert.Equal(secret, Shamir.Combine(shares.Skip(2).ToArray(), secret.Length));
        }
    }

    [Fact]
    public void Bad_thresholds_and_points_are_rejected()
    {
        var source = SecretSource.Deterministic("bad");
        Assert.Throws<ArgumentOutOfRangeException>(() => Shamir.Split(new byte[32], 7, Points, source));
        Assert.Throws<ArgumentOutOfRangeException>(() => Shamir.Split(new byte[32], 0, Points, source));
        Assert.Throws<ArgumentException>(() => Shamir.Split(new byte[32], 2, [0, 1], source));
        Assert.Throws<ArgumentException>(() => Shamir.Split(new byte[32], 2, [2, 2], source));
        Assert.Throws<ArgumentException>(() => Shamir.Split(new byte[66], 2, Points, source));
    }
}
