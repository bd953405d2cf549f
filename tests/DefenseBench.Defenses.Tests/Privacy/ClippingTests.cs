using DefenseBench.Core.Randomness;
using DefenseBench.Defenses.Privacy;
using TorchSharp;

namespace DefenseBench.Defenses.Tests.Privacy;

public sealed class ClippingTests
{
    [Fact]
    public void Clipping_an_update_bounds_its_norm_by_the_clip_and_keeps_its_direction()
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(21);
        for (int trial = 0; trial < 200; trial++)
        {
            var update = TestUpdates.Random(rng, scale: Math.Pow(10, rng.Uniform(-3, 2)));
            double clip = Math.Pow(10, rng.Uniform(-2, 2));

            var clipped = Clipping.ToNorm(update, clip);

            double before = TestUpdates.Norm(update.Tensors), after = TestUpdates.Norm(clipped.Tensors);
            Assert.True(after <= clip * (1 + 1e-6), $"trial {trial}: norm {after} > clip {clip}");
            Assert.Equal(Math.Min(before, clip), after, Math.Min(before, clip) * 1e-5);
            double cosine = update.Tensors.Zip(clipped.Tensors, (a, b) => (a.to(torch.float64) * b.to(torch.float64)).sum().item<double>()).Sum() / (before * after);
            Assert.True(cosine > 1 - 1e-6, $"trial {trial}: direction changed (cos {cosine})");
        }
    }

    [Fact]
    public void An_update_inside_the_ball_is_returned_as_it_is()
    {
        using var scope = torch.NewDisposeScope();
        var update = TestUpdates.Random(new Rng(22), scale: 0.01);

        Assert.Same(update, Clipping.ToNorm(update, 100));
        Assert.Same(update, Clipping.ToNorm(update, double.PositiveInfinity));
    }

    [Fact]
    public void Clipping_each_tensor_bounds_every_tensor_on_its_own()
    {
        using var scope = torch.NewDisposeScope();
        var rng = new Rng(23);
        for (int trial = 0; trial < 100; trial++)
        {
            var update = TestUpdates.Random(rng, scale: Math.Pow(10, rng.Uniform(-2, 2)));
            double clip = Math.Pow(10, rng.Uniform(-2, 1));

            var clipped = Clipping.EachTensor(update, clip);

            foreach (var (before, after) in update.Tensors.Zip(clipped.Tensors))
            {
                double b = TestUpdates.Norm([before]), a = TestUpdates.Norm([after]);
                Assert.True(a <= clip * (1 + 1e-6), $"trial {trial}: tensor norm {a} > clip {clip}");
                Assert.Equal(Math.Min(b, clip), a, Math.Min(b, clip) * 1e-5);
            }
        }
    }
}
