using DefenseBench.Core.Components;
using DefenseBench.Core.Data;

namespace DefenseBench.Core.Tests.Data;

public sealed class DatasetCatalogTests
{
    [Theory]
    [InlineData("synthetic-mnist", 10, 1, 28)]
    [InlineData("synthetic-cifar10", 10, 3, 32)]
    [InlineData("synthetic-cifar100", 100, 3, 32)]
    public void Synthetic_datasets_open_with_their_shape_and_class_count(string spec, int classes, int channels, int size)
    {
        Assert.Null(DatasetCatalog.Check(spec, null));

        var data = DatasetCatalog.Open(spec);

        Assert.Equal(spec, data.Name);
        Assert.Equal(classes, data.NumClasses);
        Assert.Equal(new ImageShape(channels, size, size), data.Shape);
        Assert.Empty(data.EmptyClasses(Split.Train));
        Assert.Empty(data.EmptyClasses(Split.Test));
        Assert.True(DatasetCatalog.IsSynthetic(spec));
    }

    [Fact]
    public void Num_classes_overrides_the_synthetic_class_count_and_names_it()
    {
        var data = DatasetCatalog.Open("synthetic-cifar10", 37);

        Assert.Equal(37, data.NumClasses);
        Assert.Equal("synthetic-cifar10@37", data.Name);
        Assert.Equal(36, data.Label(Split.Train, 36));
        Assert.Equal(10, DatasetCatalog.Open("synthetic-cifar10").NumClasses);
    }

    [Fact]
    public void Opening_the_same_spec_twice_shares_the_dataset()
    {
        Assert.Same(DatasetCatalog.Open("synthetic-mnist", 12), DatasetCatalog.Open("synthetic-mnist", 12));
        Assert.NotSame(DatasetCatalog.Open("synthetic-mnist", 12), DatasetCatalog.Open("synthetic-mnist", 13));
    }

    [Fact]
    public void Unknown_dataset_suggests_the_closest_name()
    {
        var e = Assert.Throws<InputException>(() => DatasetCatalog.Open("synthetic-mnsit"));

        Assert.Contains("unknown dataset 'synthetic-mnsit'", e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.Fix);
        Assert.StartsWith("did you mean 'synthetic-mnist'?", e.Fix, StringComparison.Ordinal);
        Assert.Contains("mnist:PATH", e.Fix, StringComparison.Ordinal);
        Assert.Contains("mnist-sample", e.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_dataset_far_from_every_name_lists_them_without_a_guess()
    {
        var e = DatasetCatalog.Check("imagenet-21k-winter", null);

        Assert.NotNull(e);
        Assert.DoesNotContain("did you mean", e.Fix, StringComparison.Ordinal);
        Assert.Contains("write one of synthetic-mnist", e.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mnist")]
    [InlineData("mnist:")]
    [InlineData("cifar100")]
    public void Real_dataset_without_a_path_says_to_write_one(string spec)
    {
        var e = Assert.Throws<InputException>(() => DatasetCatalog.Open(spec));

        string kind = DatasetCatalog.Parse(spec).Kind;
        Assert.Contains($"dataset '{kind}' needs the folder", e.Message, StringComparison.Ordinal);
        Assert.Equal($"write {kind}:PATH", e.Fix);
    }

    [Theory]
    [InlineData("mnist:/data/mnist")]
    [InlineData("mnist-sample")]
    [InlineData("cifar10:/data/cifar")]
    public void Num_classes_on_a_real_dataset_is_rejected(string spec)
    {
        Assert.Null(DatasetCatalog.Check(spec, null));

        var e = DatasetCatalog.Check(spec, 10);

        Assert.NotNull(e);
        Assert.Contains("num_classes applies only to synthetic datasets", e.Message, StringComparison.Ordinal);
        Assert.Equal("remove num_classes", e.Fix);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    public void Num_classes_outside_two_to_a_thousand_is_rejected(int classes)
    {
        var e = Assert.Throws<InputException>(() => DatasetCatalog.Open("synthetic-mnist", classes));

        Assert.Contains($"num_classes {classes} is out of range", e.Message, StringComparison.Ordinal);
        Assert.Equal("write a number from 2 to 1000", e.Fix);
    }

    [Fact]
    public void A_path_given_to_a_synthetic_dataset_is_rejected()
    {
        var e = Assert.Throws<InputException>(() => DatasetCatalog.Open("synthetic-mnist:/data/mnist"));

        Assert.Contains("dataset 'synthetic-mnist' takes no path", e.Message, StringComparison.Ordinal);
        Assert.Equal("write synthetic-mnist", e.Fix);
    }

    [Fact]
    public void The_mnist_sample_path_is_optional()
    {
        Assert.Null(DatasetCatalog.Check("mnist-sample", null));
        Assert.Null(DatasetCatalog.Check("mnist-sample:/somewhere/digits", null));
    }

    [Fact]
    public void Unreadable_real_dataset_is_an_input_error_and_is_not_cached()
    {
        string missing = Path.Combine(Path.GetTempPath(), "defensebench-no-such-folder-" + Guid.NewGuid().ToString("N"));

        Assert.Throws<InputException>(() => DatasetCatalog.Open("mnist:" + missing));
        Assert.Throws<InputException>(() => DatasetCatalog.Open("mnist:" + missing));
    }

    [Theory]
    [InlineData("mnist:/data/mnist", "mnist", "/data/mnist")]
    [InlineData(" cifar10 : C:\\data\\cifar ", "cifar10", "C:\\data\\cifar")]
    [InlineData("synthetic-mnist", "synthetic-mnist", null)]
    public void Specs_split_at_the_first_colon(string spec, string kind, string? path)
    {
        Assert.Equal((kind, path), DatasetCatalog.Parse(spec));
    }

    [Fact]
    public void Every_kind_is_listed_once_with_a_summary()
    {
        var ids = DatasetCatalog.Kinds.Select(k => k.Id).ToList();

        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.All(DatasetCatalog.Kinds, k => Assert.False(string.IsNullOrWhiteSpace(k.Summary)));
        Assert.Contains("synthetic-mnist", ids);
        Assert.Contains("mnist", ids);
        Assert.Contains("mnist-sample", ids);
    }
}
