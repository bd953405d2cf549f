using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Fuzz;

/// <summary>One generated matrix file: its name, its text, and the words the error must contain (null: any input error or a valid matrix).</summary>
public sealed record CorpusMatrix(string Name, string Text, string? Expect);

/// <summary>
/// Malformed matrices: YAML that does not parse, wrong shapes and types, absurd numbers, alias bombs, and random
/// line-level mutations of matrices/quick.yaml. Loading each must give exit 2 with the file named, or a valid matrix.
/// </summary>
public static class MatrixCorpus
{
    private const string Block = """
        name: fuzz
        blocks:
          - name: b
            dataset: synthetic-mnist
            model: dlg-lenet
            batch_size: 4
            attacks: [llg]
            defenses: [none]
        """;

    public static IEnumerable<CorpusMatrix> Defects() =>
    [
        new("empty", "", "YAML map"),
        new("scalar", "just text", "YAML map"),
        new("list", "- 1\n- 2\n", "YAML map"),
        new("unclosed-flow", "name: x\nblocks: [{name: b, attacks: [llg\n", null),
        new("tab-indent", "name: x\nblocks:\n\t- name: b\n", null),
        new("no-blocks", "name: x\n", "no 'blocks'"),
        new("blocks-empty", "name: x\nblocks: []\n", "non-empty list"),
        new("block-scalar", "name: x\nblocks: [3]\n", "a block must be a map"),
        new("bad-name", Block.Replace("name: fuzz", "name: ../../escape", StringComparison.Ordinal), null),
        new("html-name", Block.Replace("name: fuzz", "name: \"<script>alert(1)</script>\"", StringComparison.Ordinal), null),
        new("nul-in-name", Block.Replace("name: fuzz", "name: \"a\\0b\"", StringComparison.Ordinal), null),
        new("seeds-negative", "seeds: -1\n" + Block, "seeds -1 is out of range"),
        new("seeds-huge", "seeds: 99999999999999999999\n" + Block, null),
        new("seeds-text", "seeds: many\n" + Block, null),
        new("batch-zero", Block.Replace("batch_size: 4", "batch_size: 0", StringComparison.Ordinal), "batch"),
        new("batch-huge", Block.Replace("batch_size: 4", "batch_size: 1e300", StringComparison.Ordinal), null),
        new("batch-nested", Block.Replace("batch_size: 4", "batch_size: [[1, 2], [3]]", StringComparison.Ordinal), null),
        new("keep-nan", Block.Replace("defenses: [none]", "defenses: [{topk: {keep: .nan}}]", StringComparison.Ordinal), "keep"),
        new("keep-inf", Block.Replace("defenses: [none]", "defenses: [{topk: {keep: .inf}}]", StringComparison.Ordinal), "keep"),
        new("noise-absurd", Block.Replace("defenses: [none]", "defenses: [{noise: {scale: 1e308}}]", StringComparison.Ordinal), null),
        new("unknown-attack", Block.Replace("[llg]", "[\"<img src=x onerror=alert(1)>\"]", StringComparison.Ordinal), "unknown attack"),
        new("unknown-key", Block + "\n    evil: 1\n", "evil"),
        new("duplicate-key", Block + "\n    batch_size: 8\n", null),
        new("alias-bomb", """
            name: bomb
            a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: *d
                attacks: [llg]
            """, null),
        new("deep-nesting", "name: x\nblocks: " + new string('[', 5000) + new string(']', 5000) + "\n", null),
        new("binary", "\u0000\u0001\u00ff\ufffe", null),
    ];

    /// <summary>Random line-level mutations of matrices/quick.yaml: a line deleted, duplicated, cut, re-indented or given a hostile value.</summary>
    public static IEnumerable<CorpusMatrix> Mutations(int seed, int count)
    {
        var rng = new Random(seed);
        var lines = File.ReadAllLines(Repository.File("matrices", "quick.yaml"));
        string[] values = ["0", "-1", "1e400", ".nan", "[]", "{}", "~", "\"../../x\"", "\"<b>\"", "&x 1", "*nope", "!!binary AAAA", "[1, [2, [3]]]"];
        for (int i = 0; i < count; i++)
        {
            var copy = lines.ToList();
            int at = rng.Next(copy.Count);
            switch (rng.Next(5))
            {
                case 0: copy.RemoveAt(at); break;
                case 1: copy.Insert(at, copy[at]); break;
                case 2: copy[at] = copy[at][..rng.Next(copy[at].Length + 1)]; break;
                case 3: copy[at] = new string(' ', rng.Next(12)) + copy[at].TrimStart(); break;
                default:
                    int colon = copy[at].IndexOf(':', StringComparison.Ordinal);
                    copy[at] = colon < 0 ? values[rng.Next(values.Length)] : copy[at][..(colon + 1)] + " " + values[rng.Next(values.Length)];
                    break;
            }
            yield return new($"mutation-{seed}-{i}", string.Join('\n', copy) + "\n", null);
        }
    }
}
