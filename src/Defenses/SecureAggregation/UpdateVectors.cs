using DefenseBench.Core.Federation;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>The thin bridge between updates (named tensors on a device) and the flat host vectors the protocol works on.</summary>
public static class UpdateVectors
{
    /// <summary>Every tensor flattened and concatenated in the update's order, as float32 on the host.</summary>
    public static float[] Flatten(Update update)
    {
        using var scope = torch.NewDisposeScope();
        return torch.cat(update.Tensors.Select(t => t.detach().flatten().to(ScalarType.Float32)).ToArray(), 0).cpu().data<float>().ToArray();
    }

    /// <summary>An update shaped like <paramref name="template"/> (names, shapes, dtypes, devices) holding <paramref name="values"/>.</summary>
    public static Update Unflatten(Update template, double[] values)
    {
        if (values.Length != template.ElementCount)
            throw new ArgumentException($"{values.Length} values for an update of {template.ElementCount}", nameof(values));
        int offset = 0;
        return template.Map((_, t) =>
        {
            int count = (int)t.numel();
            var part = torch.tensor(values.AsSpan(offset, count).ToArray(), t.shape, ScalarType.Float64).to(t.dtype).to(t.device);
            offset += count;
            return part;
        });
    }
}
