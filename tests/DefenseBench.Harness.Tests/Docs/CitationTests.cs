using System.Text.RegularExpressions;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Docs;

/// <summary>
/// The project documents itself: a comment, the README or a matrix may cite only documents the repository holds (an
/// upper-case name ending in .md, or a docs/ page; output files such as leaderboard.md are no citations), so
/// a reader of the code can follow every citation.
/// </summary>
public sealed partial class CitationTests
{
    [GeneratedRegex(@"\b(?:docs/[a-z][a-z0-9_-]*|[A-Z][A-Z0-9_]*)\.md\b")]
    private static partial Regex MarkdownName();

    private static IEnumerable<string> Sources() =>
        new[] { "src", "tests", "matrices" }.SelectMany(folder => Directory.EnumerateFiles(Repository.File(folder), "*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Append(Repository.File("README.md"))
            .Concat(Directory.EnumerateFiles(Repository.File("docs"), "*.md"));

    [Fact]
    public void Every_markdown_document_cited_in_code_docs_or_matrices_is_in_the_repository()
    {
        var missing = (from file in Sources()
                       from Match m in MarkdownName().Matches(File.ReadAllText(file))
                       let cited = m.Value
                       where !File.Exists(Repository.File(cited.Split('/')))
                             && !File.Exists(Path.Combine(Path.GetDirectoryName(file)!, cited))
                             && !File.Exists(Repository.File("docs", cited))
                       select $"{Path.GetRelativePath(Repository.Root, file)}: {cited}").Distinct().ToList();

        Assert.True(missing.Count == 0, "cited but not in the repository:\n" + string.Join("\n", missing));
    }
}
