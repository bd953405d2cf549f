using DefenseBench.Core.Randomness;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Sharding;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Sharding;

public sealed class ShardPlanTests
{
    private static readonly MatrixSpec Quick = MatrixLoader.Load(Repository.File("matrices", "quick.yaml"));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(34)]
    [InlineData(50)]
    public void Every_cell_of_the_quick_matrix_is_in_exactly_one_shard(int count)
    {
        var shards = Enumerable.Range(0, count).Select(i => ShardPlan.Select(Quick.Cells, new ShardSpec(i, count))).ToArray();

        var all = shards.SelectMany(s => s.Select(c => c.Id)).ToArray();
        Assert.Equal(Quick.Cells.Count, all.Length);
        Assert.Equal(Quick.Cells.Select(c => c.Id).Order(), all.Order());
    }

    [Fact]
    public void A_shard_lists_its_cells_in_matrix_order()
    {
        var shard = ShardPlan.Select(Quick.Cells, new ShardSpec(1, 3));
        var position = Quick.Cells.Select((c, i) => (c.Id, i)).ToDictionary();

        Assert.Equal(shard.Select(c => position[c.Id]).Order(), shard.Select(c => position[c.Id]));
    }

    [Fact]
    public void The_split_is_the_same_every_time()
    {
        var costs = Quick.Cells.Select(ShardPlan.Cost).ToArray();

        Assert.Equal(ShardPlan.Assign(costs, 5), ShardPlan.Assign(costs.ToArray(), 5));
    }

    [Fact]
    public void More_shards_than_cells_leave_the_extra_shards_empty()
    {
        var shardOf = ShardPlan.Assign([3.0, 1.0, 2.0], 5);

        Assert.Equal([0, 2, 1], shardOf);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void The_most_and_least_loaded_shards_differ_by_at_most_the_largest_cell(int count)
    {
        var rng = new Rng(42);
        for (int trial = 0; trial < 200; trial++)
        {
            double[] costs = Enumerable.Range(0, 1 + rng.NextInt(40)).Select(_ => Math.Exp(rng.Uniform(0, 8))).ToArray();

            int[] shardOf = ShardPlan.Assign(costs, count);

            double[] load = new double[count];
            for (int i = 0; i < costs.Length; i++) load[shardOf[i]] += costs[i];
            Assert.True(load.Max() - load.Min() <= costs.Max() + 1e-9, $"trial {trial}: loads {string.Join(", ", load)}, largest cell {costs.Max()}");
        }
    }

    [Fact]
    public void A_cell_costs_more_with_a_bigger_batch_and_with_a_model_based_attack()
    {
        var small = Quick.Cells.First(c => c.Attack.Id == "llg" && c.Scenario.BatchSize == 1);
        var big = Quick.Cells.First(c => c.Attack.Id == "llg" && c.Scenario.BatchSize == 64);
        var plus = Quick.Cells.First(c => c.Attack.Id == "llg-plus" && c.Scenario.BatchSize == 1);

        Assert.True(ShardPlan.Cost(big) > ShardPlan.Cost(small));
        Assert.True(ShardPlan.Cost(plus) > ShardPlan.Cost(small));
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("6/7", 6, 7)]
    [InlineData(" 2/3 ", 2, 3)]
    public void Shard_text_reads_as_index_and_count(string text, int index, int count)
    {
        Assert.Equal(new ShardSpec(index, count), ShardSpec.Parse(text));
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("1/0")]
    [InlineData("-1/3")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("1/2/3")]
    public void A_shard_that_is_not_i_of_n_exits_2_before_anything_runs(string text)
    {
        using var temp = new TempFolder();

        var run = InProcess.Expect(2, "run", Repository.File("matrices", "quick.yaml"), "--out", temp["out"], "--device", "cpu", "--shard", text);

        Assert.Contains("--shard", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp["out"]));
    }
}
