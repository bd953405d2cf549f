using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Federation;

/// <summary>How a client's labels are drawn.</summary>
public enum LabelDistribution
{
    /// <summary>Every label uniform over the classes.</summary>
    Iid,

    /// <summary>The LLG definition: ⌊B/2⌋ of class a, ⌊B/4⌋ of class b ≠ a, the rest uniform (a, b fixed per client).</summary>
    NonIid,

    /// <summary>Equal counts: ⌊B/C⌋ of every class, the remainder on distinct random classes.</summary>
    Balanced,
}

public static class LabelDistributions
{
    public static string Canonical(this LabelDistribution d) => d switch
    {
        LabelDistribution.Iid => "iid",
        LabelDistribution.NonIid => "non-iid",
        _ => "balanced",
    };

    public static bool TryParse(string text, out LabelDistribution d)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "iid": d = LabelDistribution.Iid; return true;
            case "non-iid" or "noniid" or "non_iid": d = LabelDistribution.NonIid; return true;
            case "balanced": d = LabelDistribution.Balanced; return true;
            default: d = default; return false;
        }
    }

    /// <summary>The dominant classes (a, b) of one client for the non-IID distribution; drawn once per client.</summary>
    public static (int A, int B) DominantClasses(int numClasses, Rng rng)
    {
        int a = rng.NextInt(numClasses);
        int b = rng.NextInt(numClasses - 1);
        return (a, b >= a ? b + 1 : b);
    }

    /// <summary>Labels of one batch of size <paramref name="batchSize"/>.</summary>
    public static int[] Draw(this LabelDistribution d, int batchSize, int numClasses, (int A, int B) dominant, Rng rng)
    {
        var labels = new List<int>(batchSize);
        switch (d)
        {
            case LabelDistribution.NonIid:
                labels.AddRange(Enumerable.Repeat(dominant.A, batchSize / 2));
                labels.AddRange(Enumerable.Repeat(dominant.B, batchSize / 4));
                break;
            case LabelDistribution.Balanced:
                for (int c = 0; c < numClasses; c++) labels.AddRange(Enumerable.Repeat(c, batchSize / numClasses));
                var classes = Enumerable.Range(0, numClasses).ToList();
                rng.Shuffle(classes);
                labels.AddRange(classes.Take(batchSize % numClasses));
                break;
        }
        while (labels.Count < batchSize) labels.Add(rng.NextInt(numClasses));
        var result = labels.ToArray();
        rng.Shuffle(result);
        return result;
    }
}
