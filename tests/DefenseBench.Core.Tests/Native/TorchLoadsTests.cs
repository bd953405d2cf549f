using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Native;

/// <summary>libtorch loads through TorchSharp and autograd agrees with the closed-form softmax/cross-entropy gradient.</summary>
public sealed class TorchLoadsTests
{
    private static readonly double[,] X = { { 0.5, -1.0, 2.0, 0.25 }, { -0.3, 0.8, 0.1, -1.2 }, { 1.5, 0.2, -0.7, 0.9 } };
    private static readonly long[] Y = [2, 0, 2];
    private static readonly double[,] W = { { 0.1, -0.2, 0.3, 0.05 }, { -0.4, 0.25, 0.15, -0.1 }, { 0.2, 0.1, -0.3, 0.45 } };
    private static readonly double[] Bias = [0.05, -0.15, 0.1];

    /// <summary>(softmax(z) − onehot(y))ᵀ x / B and its bias part, in plain doubles.</summary>
    private static (double[,] GradW, double[] GradB) ClosedForm()
    {
        int batch = X.GetLength(0), classes = W.GetLength(0), inputs = X.GetLength(1);
        var gw = new double[classes, inputs];
        var gb = new double[classes];
        for (int k = 0; k < batch; k++)
        {
            var z = new double[classes];
            for (int c = 0; c < classes; c++)
            {
                z[c] = Bias[c];
                for (int d = 0; d < inputs; d++) z[c] += W[c, d] * X[k, d];
            }
            double max = z.Max();
            double sum = z.Sum(v => Math.Exp(v - max));
            for (int c = 0; c < classes; c++)
            {
                double residual = Math.Exp(z[c] - max) / sum - (Y[k] == c ? 1 : 0);
                gb[c] += residual / batch;
                for (int d = 0; d < inputs; d++) gw[c, d] += residual * X[k, d] / batch;
            }
        }
        return (gw, gb);
    }

    [Fact]
    public void Linear_layer_cross_entropy_gradient_matches_the_closed_form()
    {
        using var scope = torch.NewDisposeScope();
        var linear = nn.Linear(4, 3, dtype: ScalarType.Float64);
        using (torch.no_grad())
        {
            linear.weight!.copy_(torch.tensor(W, dtype: ScalarType.Float64));
            linear.bias!.copy_(torch.tensor(Bias, dtype: ScalarType.Float64));
        }
        var x = torch.tensor(X, dtype: ScalarType.Float64);
        var y = torch.tensor(Y, dtype: ScalarType.Int64);

        var loss = nn.functional.cross_entropy(linear.forward(x), y);
        loss.backward();

        var (gw, gb) = ClosedForm();
        var autogradW = linear.weight!.grad!.data<double>().ToArray();
        var autogradB = linear.bias!.grad!.data<double>().ToArray();
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(gb[c], autogradB[c], 1e-6);
            for (int d = 0; d < 4; d++) Assert.Equal(gw[c, d], autogradW[c * 4 + d], 1e-6);
        }
        // The identity every label attack leans on: the bias gradient sums to zero over the classes.
        Assert.Equal(0.0, autogradB.Sum(), 1e-12);
    }

    [Fact]
    public void Float32_forward_and_backward_run_on_the_cpu()
    {
        using var scope = torch.NewDisposeScope();
        var linear = nn.Linear(4, 3);
        var x = torch.tensor(X, dtype: ScalarType.Float64).to(ScalarType.Float32);

        var loss = nn.functional.cross_entropy(linear.forward(x), torch.tensor(Y, dtype: ScalarType.Int64));
        loss.backward();

        Assert.Equal(DeviceType.CPU, loss.device_type);
        Assert.True(double.IsFinite(loss.item<float>()) && loss.item<float>() > 0);
        Assert.Equal([3L, 4L], linear.weight!.grad!.shape);
        Assert.True(linear.weight.grad.abs().sum().item<float>() > 0);
    }
}
