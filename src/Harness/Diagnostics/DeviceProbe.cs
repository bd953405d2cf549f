using System.Diagnostics;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefenseBench.Harness.Diagnostics;

/// <summary>Median and fastest time of a pass over several runs; the fastest shows the device's speed on a busy machine.</summary>
public sealed record PassTime(double MedianMs, double MinimumMs);

/// <summary>Times of the two passes every attack family relies on, on one device.</summary>
public sealed record ProbeTimes(PassTime ForwardBackward, PassTime DoubleBackward);

/// <summary>
/// A small forward and backward pass (what label attacks and every client update need) and a double backward (the
/// gradient of a gradient-matching distance with respect to dummy inputs, what DLG and DLM need: autograd.grad with
/// create_graph and retain_graph), on the DLG LeNet with B = 8 MNIST-sized inputs. Each result is read back to the
/// host, which also waits for the device, so the times cover the work, not just its launch.
/// </summary>
public static class DeviceProbe
{
    public const string Model = "dlg-lenet";
    public const int BatchSize = 8;
    public const int Runs = 9;

    // Kept alive by the class: an implicit Scalar, including the alpha of 1 that `a + b` makes inside TorchSharp, may
    // be finalised while libtorch still reads it.
    private static readonly Scalar One = 1.ToScalar(), Two = 2.ToScalar();

    public static ProbeTimes Run(Device device, int runs = Runs)
    {
        using var scope = torch.NewDisposeScope();
        var shape = ImageShape.Mnist;
        var dataset = new SyntheticImages("doctor", shape, 10, BatchSize, 1);
        var model = ModelCatalog.Create(Model, shape, 10, 3, device);
        var batch = VictimRound.LoadBatch(dataset, Enumerable.Range(0, BatchSize).Select(i => i % 10).ToArray(), new Rng(5), device);
        var parameters = model.parameters().ToArray();
        var target = LocalTraining.Gradient(model, batch).Tensors;
        Tensor dummyStart;
        using (var generator = new Generator(9, torch.CPU))
            dummyStart = torch.rand(shape.BatchDims(BatchSize), generator: generator).to(device);

        double ForwardBackward()
        {
            using var step = torch.NewDisposeScope();
            var loss = functional.cross_entropy(model.forward(batch.Images), batch.Labels);
            var grads = torch.autograd.grad([loss], parameters);
            return grads[^1].abs().sum().item<float>();
        }

        double DoubleBackward()
        {
            using var step = torch.NewDisposeScope();
            var dummy = dummyStart.detach().clone().requires_grad_(true);
            var loss = functional.cross_entropy(model.forward(dummy), batch.Labels);
            var grads = torch.autograd.grad([loss], parameters, retain_graph: true, create_graph: true);
            var distance = grads.Zip(target, (g, t) => (g - t).pow(Two).sum()).Aggregate((a, b) => a.add(b, One));
            var inputGrad = torch.autograd.grad([distance], [dummy])[0];
            return inputGrad.abs().sum().item<float>();
        }

        return new ProbeTimes(Time(ForwardBackward, runs), Time(DoubleBackward, runs));
    }

    /// <summary>The wall times of <paramref name="runs"/> calls after one warm-up; a non-finite result is an error.</summary>
    private static PassTime Time(Func<double> pass, int runs)
    {
        Check(pass());
        var times = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            Check(pass());
            times[r] = clock.Elapsed.TotalMilliseconds;
        }
        return new PassTime(Timing.Median(times), times.Min());
    }

    private static void Check(double value)
    {
        if (!double.IsFinite(value) || value <= 0) throw new InvalidOperationException($"the pass returned a gradient of size {value}, expected a positive finite one");
    }
}
