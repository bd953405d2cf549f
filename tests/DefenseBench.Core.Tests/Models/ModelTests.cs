using DefenseBench.Core.Data;
using DefenseBench.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Core.Tests.Models;

public sealed class ModelTests
{
    private static Classifier Create(string id, ImageShape shape, int classes = 10, long seed = 1) =>
        ModelCatalog.Create(id, shape, classes, seed, torch.CPU);

    private static Tensor Inputs(ImageShape shape, int batch) =>
        torch.rand(shape.BatchDims(batch), generator: new Generator(3, torch.CPU));

    public static TheoryData<string, int, int> ModelsAndShapes => new()
    {
        { "dlg-lenet", 1, 10 }, { "dlg-lenet", 3, 100 },
        { "lenet5", 1, 10 }, { "lenet5", 3, 100 },
        { "lenet5-bn", 1, 10 }, { "lenet5-bn", 3, 100 },
        { "fcn3", 1, 10 }, { "fcn3", 3, 7 },
        { "lenet5-silu", 1, 10 }, { "lenet5-silu", 3, 100 },
        { "lenet5-leaky", 1, 10 }, { "lenet5-leaky", 3, 100 },
        { "vgg11-bn", 3, 100 },
        { "resnet18", 3, 100 }, { "resnet18", 1, 10 },
        { "mlp2", 1, 10 }, { "mlp2", 3, 100 },
    };

    /// <summary>Models whose embedding passes through ReLU or sigmoid last, so it is non-negative.</summary>
    private static readonly string[] NonNegativeEmbedding = ["dlg-lenet", "lenet5", "lenet5-bn", "fcn3", "vgg11-bn", "vgg16-bn", "resnet18", "mlp2"];

    private static readonly string[] WithBatchNorm = ["lenet5-bn", "vgg11-bn", "vgg16-bn", "resnet18"];

    private static ImageShape Shape(int channels) => channels == 1 ? ImageShape.Mnist : ImageShape.Cifar;

    [Theory]
    [MemberData(nameof(ModelsAndShapes))]
    public void The_last_two_parameters_are_the_fc_weight_and_bias(string id, int channels, int classes)
    {
        using var scope = torch.NewDisposeScope();
        var model = Create(id, Shape(channels), classes);

        var names = model.ParameterNames;
        Assert.Equal([Classifier.FcWeight, Classifier.FcBias], names.TakeLast(2));
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(names.Count, model.parameters().Count());
        Assert.Equal([(long)classes, model.EmbeddingSize], model.Fc.weight!.shape);
        Assert.Equal(classes, model.NumClasses);
    }

    [Theory]
    [InlineData("dlg-lenet", 1, 588)]
    [InlineData("dlg-lenet", 3, 768)]
    [InlineData("lenet5", 1, 84)]
    [InlineData("lenet5", 3, 84)]
    [InlineData("lenet5-bn", 1, 84)]
    [InlineData("fcn3", 1, 300)]
    [InlineData("fcn3", 3, 300)]
    [InlineData("lenet5-silu", 3, 84)]
    [InlineData("lenet5-leaky", 3, 84)]
    [InlineData("vgg11-bn", 3, 4096)]
    [InlineData("vgg16-bn", 3, 4096)]
    [InlineData("resnet18", 3, 512)]
    [InlineData("mlp2", 3, 32)]
    public void Embedding_size_matches_the_papers(string id, int channels, int size)
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal(size, Create(id, Shape(channels)).EmbeddingSize);
    }

    [Theory]
    [MemberData(nameof(ModelsAndShapes))]
    public void Forward_gives_logits_and_embed_gives_the_fc_input(string id, int channels, int classes)
    {
        using var scope = torch.NewDisposeScope();
        var shape = Shape(channels);
        var model = Create(id, shape, classes);
        model.eval();
        var x = Inputs(shape, 5);

        var logits = model.forward(x);
        var embedding = model.Embed(x);

        Assert.Equal([5L, classes], logits.shape);
        Assert.Equal([5L, model.EmbeddingSize], embedding.shape);
        Assert.True(torch.allclose(logits, model.Fc.forward(embedding), rtol: 1e-5, atol: 1e-6));
        // Sigmoid (DLG LeNet) and ReLU (LeNet-5, FCN-3, VGG, ResNet) embeddings are non-negative, which LLG's sign
        // rule needs; SiLU and LeakyReLU give negative entries, which is why iLRG's ablation uses them.
        Assert.Equal(NonNegativeEmbedding.Contains(id), embedding.min().item<float>() >= 0);
    }

    [Fact]
    public void Resnet18_has_the_published_cifar_parameter_count()
    {
        using var scope = torch.NewDisposeScope();
        var model = Create("resnet18", ImageShape.Cifar, 10);

        Assert.Equal(11_173_962, model.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("vgg11-bn", 8)]
    [InlineData("vgg16-bn", 13)]
    public void Vgg_has_the_papers_number_of_convolutions(string id, int convolutions)
    {
        using var scope = torch.NewDisposeScope();
        var model = Create(id, ImageShape.Cifar, 10);

        Assert.Equal(convolutions, model.named_parameters().Count(p => p.name.StartsWith("convs.", StringComparison.Ordinal) && p.name.EndsWith(".weight", StringComparison.Ordinal)));
    }

    [Fact]
    public void Vgg_rejects_images_too_small_for_five_poolings()
    {
        var e = Assert.Throws<DefenseBench.Core.Components.InputException>(() => Create("vgg11-bn", ImageShape.Mnist));

        Assert.Contains("32x32", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dlg-lenet")]
    [InlineData("mlp2")]
    public void Dlg_lenet_and_mlp2_are_initialised_uniformly_in_plus_minus_a_half(string id)
    {
        using var scope = torch.NewDisposeScope();
        var model = Create(id, ImageShape.Mnist);

        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.min().item<float>() >= -0.5f && p.max().item<float>() <= 0.5f, name);
            if (p.numel() >= 300)
            {
                // U(−0.5, 0.5), not a fan-in scaled init: the extremes reach near ±0.5 and the spread is 1/√12.
                Assert.True(p.min().item<float>() < -0.45f && p.max().item<float>() > 0.45f, name);
                Assert.InRange(p.std().item<float>(), 0.25f, 0.33f);
            }
        }
        var all = torch.cat(model.parameters().Select(p => p.flatten()).ToArray());
        Assert.True(all.min().item<float>() < -0.49f && all.max().item<float>() > 0.49f);
    }

    [Theory]
    [InlineData("lenet5", 1)]
    [InlineData("lenet5", 3)]
    [InlineData("fcn3", 1)]
    public void Linear_layers_keep_the_default_init_within_one_over_root_fan_in(string id, int channels)
    {
        using var scope = torch.NewDisposeScope();
        var model = Create(id, Shape(channels));
        var parameters = model.named_parameters().Where(p => p.name.StartsWith("fc", StringComparison.Ordinal)).ToList();

        for (int i = 0; i < parameters.Count; i += 2)
        {
            var (weightName, weight) = parameters[i];
            var (biasName, bias) = parameters[i + 1];
            Assert.EndsWith(".weight", weightName, StringComparison.Ordinal);
            Assert.EndsWith(".bias", biasName, StringComparison.Ordinal);
            long fanIn = weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            float bound = (float)(1 / Math.Sqrt(fanIn));
            foreach (var (name, p) in new[] { (weightName, weight), (biasName, bias) })
            {
                Assert.True(p.abs().max().item<float>() <= bound * (1 + 1e-6f), $"{name} exceeds 1/sqrt({fanIn})");
                if (p.numel() >= 100) Assert.True(p.abs().max().item<float>() > 0.9f * bound, $"{name} does not fill ±1/sqrt({fanIn})");
            }
        }
    }

    [Theory]
    [InlineData("lenet5", 3)]
    [InlineData("vgg11-bn", 3)]
    [InlineData("resnet18", 3)]
    public void Convolutions_are_kaiming_normal_with_fan_out(string id, int channels)
    {
        using var scope = torch.NewDisposeScope();
        var model = Create(id, Shape(channels));

        foreach (var (name, weight) in model.named_parameters().Where(p => p.parameter.dim() == 4))
        {
            long fanOut = weight.shape[0] * weight.shape[2] * weight.shape[3];
            double expected = Math.Sqrt(2.0 / fanOut);
            double std = weight.std().item<float>(), mean = weight.mean().item<float>();
            Assert.True(Math.Abs(std / expected - 1) < 0.15, $"{name}: std {std:G3}, expected sqrt(2/{fanOut}) = {expected:G3}");
            Assert.True(Math.Abs(mean) < 0.2 * expected, $"{name}: mean {mean:G3}");
        }
    }

    [Theory]
    [InlineData("dlg-lenet")]
    [InlineData("lenet5")]
    [InlineData("lenet5-silu")]
    [InlineData("fcn3")]
    [InlineData("resnet18")]
    [InlineData("mlp2")]
    public void The_seed_alone_fixes_the_weights(string id)
    {
        using var scope = torch.NewDisposeScope();
        var a = Create(id, ImageShape.Mnist, seed: 42);
        var b = Create(id, ImageShape.Mnist, seed: 42);
        var c = Create(id, ImageShape.Mnist, seed: 43);

        foreach (var ((name, p), q, r) in a.named_parameters().Zip(b.parameters(), c.parameters()))
        {
            Assert.True(p.eq(q).all().item<bool>(), $"{name} differs for the same seed");
            // Batch-norm scales and shifts start at the constants 1 and 0 whatever the seed.
            bool constant = p.eq(p.flatten()[0]).all().item<bool>();
            Assert.True(constant || !p.eq(r).all().item<bool>(), $"{name} is the same for another seed");
        }
    }

    [Fact]
    public void Unknown_model_lists_the_known_ones()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.Create("resnet9000", ImageShape.Mnist, 10, 1, torch.CPU));

        Assert.Contains("dlg-lenet", e.Message, StringComparison.Ordinal);
        Assert.Equal(["dlg-lenet", "lenet5", "lenet5-silu", "lenet5-leaky", "lenet5-bn", "fcn3", "vgg11-bn", "vgg16-bn", "resnet18", "mlp2"], ModelCatalog.All.Ids);
        Assert.Equal("lenet5", ModelCatalog.All.Closest("lenet"));
    }

    [Fact]
    public void Models_say_whether_they_have_batch_norm()
    {
        using var scope = torch.NewDisposeScope();
        Assert.All(ModelCatalog.All.Ids, id =>
        {
            var model = Create(id, ImageShape.Cifar);
            Assert.Equal(WithBatchNorm.Contains(id), model.HasBatchNorm);
            string? dominating = id switch { "lenet5-bn" => "bn", "vgg11-bn" => "norms.7", "vgg16-bn" => "norms.12", "resnet18" => "bn1", _ => null };
            Assert.Equal(dominating, model.DominatingBatchNorm);
            if (dominating != null) Assert.Contains($"{dominating}.running_var", model.state_dict().Keys);
            Assert.Equal(model.HasBatchNorm, model.modules().Any(m => m is TorchSharp.Modules.BatchNorm));
        });
    }

    [Fact]
    public void Lenet5_bn_is_lenet5_with_a_batch_norm_before_the_head()
    {
        using var scope = torch.NewDisposeScope();
        var plain = Create("lenet5", ImageShape.Mnist);
        var bn = Create("lenet5-bn", ImageShape.Mnist);

        Assert.True(bn.HasBatchNorm);
        Assert.Equal("bn", bn.DominatingBatchNorm);
        Assert.Equal(plain.ParameterNames.SkipLast(2).Concat(["bn.weight", "bn.bias", Classifier.FcWeight, Classifier.FcBias]), bn.ParameterNames);
        Assert.Contains("bn.running_mean", bn.state_dict().Keys);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Scale_zero_in_the_dominating_batch_norm_makes_the_embedding_its_shift_in_either_mode(bool train)
    {
        using var scope = torch.NewDisposeScope();
        var model = Create("lenet5-bn", ImageShape.Mnist);
        var shift = torch.linspace(0.1, 1.0, 84);
        var patch = new ModelPatch(new Dictionary<string, Tensor>
        {
            ["bn.weight"] = torch.zeros(84), ["bn.bias"] = shift, ["bn.running_mean"] = torch.zeros(84), ["bn.running_var"] = torch.ones(84),
        });
        model.train(train);

        using (patch.ApplyTo(model))
        {
            var embedding = model.Embed(Inputs(ImageShape.Mnist, 5));
            Assert.True(torch.allclose(embedding, shift.expand(5, 84), rtol: 0, atol: 1e-7));
        }
    }
}
