using DefenseBench.Core.Data;
using DefenseBench.Core.Metrics;

namespace DefenseBench.Harness.Results;

/// <summary>A target's reconstructions paired with the originals they were matched to, for the picture grid.</summary>
public sealed record MatchedImages(int Target, ImageShape Shape, IReadOnlyList<(float[] Original, float[] Reconstruction, ImageScore Score)> Pairs);
