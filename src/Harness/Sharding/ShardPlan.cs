using System.Collections.Concurrent;
using DefenseBench.Attacks;
using DefenseBench.Core.Data;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Harness.Matrix;
using TorchSharp;

namespace DefenseBench.Harness.Sharding;

/// <summary>
/// Splits a matrix's cells over n shards of similar cost. A cell (with all its seeds) is the unit, so every cell is in
/// exactly one shard; the split is a pure function of the matrix and n, and never changes a cell's result: victims are
/// seeded by scenario and trial, and attack and defence streams by cell, not by what else a process runs.
///
/// Cost model (a deliberate estimate; it moves only the balance, never a number):
///   cost = P(model) × (K·B·U·(R + 1) + w(attack)·C)
/// with P the model's parameter count for the dataset's image shape, K clients, B batch size, U local steps (the
/// clients' forward and backward passes), R the rounds trained before the attacked one (a training shared by several
/// cells is counted in each: an overestimate), C classes, and w an attack's forward passes per class relative to one
/// sample, declared in its catalog entry (AttackTraits.CostWeight): label attacks that only read the gradient cost nothing extra, LLG*/LLG+ estimate from tens of samples per
/// class, gradient matching runs hundreds of optimisation steps. Assignment: longest cost first to the least loaded
/// shard (ties to the earlier cell and the lower shard), so the most and least loaded shards differ by at most one
/// cell's cost.
/// </summary>
public static class ShardPlan
{
    private static readonly ConcurrentDictionary<(string Model, ImageShape Shape, int Classes), long> ParameterCounts = new();

    public static double Cost(Cell cell)
    {
        var s = cell.Scenario;
        double weight = cell.Attack.CostWeight;
        return Parameters(s) * ((double)s.Clients * s.LabelsPerClient * (cell.Round + 1) + weight * s.NumClasses);
    }

    /// <summary>The model's parameter count (built once per model, shape and class count, on the CPU).</summary>
    private static long Parameters(ScenarioSpec s)
    {
        var shape = DatasetCatalog.ShapeOf(s.Dataset) ?? ImageShape.Mnist;
        return ParameterCounts.GetOrAdd((s.Model, shape, s.NumClasses), key =>
        {
            using var scope = torch.NewDisposeScope();
            using var model = ModelCatalog.Create(key.Model, key.Shape, key.Classes, 0, torch.CPU);
            return model.parameters().Sum(p => p.numel());
        });
    }

    /// <summary>The shard of each cost's item: longest first onto the least loaded shard.</summary>
    public static int[] Assign(IReadOnlyList<double> costs, int count)
    {
        var shardOf = new int[costs.Count];
        var load = new double[count];
        foreach (int item in Enumerable.Range(0, costs.Count).OrderByDescending(i => costs[i]).ThenBy(i => i))
        {
            int lightest = 0;
            for (int s = 1; s < count; s++) if (load[s] < load[lightest]) lightest = s;
            shardOf[item] = lightest;
            load[lightest] += costs[item];
        }
        return shardOf;
    }

    /// <summary>The cells of one shard, in matrix order (all of them for an unsharded run).</summary>
    public static IReadOnlyList<Cell> Select(IReadOnlyList<Cell> cells, ShardSpec shard)
    {
        if (shard.IsWhole) return cells;
        int[] shardOf = Assign(cells.Select(Cost).ToArray(), shard.Count);
        return cells.Where((_, i) => shardOf[i] == shard.Index).ToArray();
    }
}
