using System.Globalization;
using DefenseBench.Core.Components;
using DefenseBench.Harness.Baselines;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Reproduce;
using DefenseBench.Harness.Results;

namespace DefenseBench.Harness.Publishing;

/// <summary>
/// One results folder on a board of several: who submitted it (the folder's name), the harness and commit that ran it,
/// its matrix, the external programs its exec defences and attacks ran with their SHA-256, and what `reproduce` found.
/// </summary>
public sealed record Submission(
    string Submitter,
    string Folder,
    string? HarnessVersion,
    string? GitCommit,
    string? Matrix,
    string? MatrixSha256,
    IReadOnlyList<ExecRecord> ExecDefenses,
    IReadOnlyList<ExecRecord> ExecAttacks,
    string Reproduced)
{
    public const string NotReproduced = "not reproduced (the folder holds no reproduce.json)";

    public static Submission Of(string submitter, ResultsFolder folder) =>
        new(submitter, folder.Folder, folder.Manifest?.HarnessVersion, folder.Manifest?.GitCommit, folder.Manifest?.Matrix, folder.Manifest?.MatrixSha256,
            folder.Manifest?.ExecDefenses ?? [], folder.Manifest?.ExecAttacks ?? [], ReproduceReport.Line(folder.Folder) ?? NotReproduced);

    /// <summary>"alice (folder runs/alice): harness 0.1.0, commit 1a2b3c; matrix m (sha256 ...); exec defence ...; reproduced 3 of 3 ...".</summary>
    public string Describe() =>
        string.Join("; ", [
            $"{Submitter} (folder {Folder}): harness {HarnessVersion ?? "unknown"}, commit {GitCommit ?? "unknown"}",
            $"matrix {Matrix ?? "unknown"} (sha256 {MatrixSha256 ?? "unknown"})",
            .. ExecDefenses.Select(e => Exec("defence", e)), .. ExecAttacks.Select(e => Exec("attack", e)),
            Reproduced,
        ]);

    /// <summary>"exec defence prune: python3 prune.py (prune.py sha256 ...)": the program a board's numbers came from.</summary>
    public static string Exec(string kind, ExecRecord record) =>
        $"exec {kind} {record.Name}: {record.Command}" +
        (record.Files.Count == 0 ? " (names no file)" : $" ({string.Join(", ", record.Files.Select(f => $"{f.Key} sha256 {f.Value}"))})");
}

/// <summary>A row given by two folders whose metric differs beyond tolerance: the same cell and seed measured twice, differently.</summary>
public sealed record Disagreement(string First, string Second, int Seed, Movement Moved)
{
    /// <summary>"cell 1a2b seed 0 (llg none, scenario): leacc is 0.9 in alice and 0.5 in bob, tolerance 0.05".</summary>
    public string Describe()
    {
        var cell = Moved.Cell;
        string what = Moved.Tolerance is { } tolerance
            ? $"{Moved.What} is {Shown(Moved.Was)} in {First} and {Shown(Moved.Is)} in {Second}, tolerance {Verifier.Format(tolerance)}"
            : $"{Moved.What} ({First} -> {Second})";
        return $"cell {Moved.CellId} seed {Seed.ToString(CultureInfo.InvariantCulture)} ({cell.AttackText} {cell.Defense}, {cell.Scenario}): {what}";
    }

    private static string Shown(double? v) => v == null ? "absent" : Verifier.Format(v);
}

/// <summary>
/// The results folders of a board of several submissions, checked and joined (README, publishing a board of
/// submissions): every folder has a manifest with a suite hash, all share the suite and the harness version, and a row
/// given by more than one folder (the undefended cells, a defence both submitted) agrees metric by metric within the
/// suite's tolerances (<see cref="Verifier.Compare(Func{string, double}, IReadOnlyList{BaselineCell}, IReadOnlyList{BaselineCell})"/>)
/// and counts once. <see cref="Disagreements"/> lists every row that does not; a board is published only when it is empty.
/// </summary>
public sealed record SubmissionSet(
    IReadOnlyList<Submission> Submissions,
    IReadOnlyList<CellRow> Rows,
    IReadOnlyDictionary<string, IReadOnlyList<string>> SubmittersOf,
    IReadOnlyList<Disagreement> Disagreements,
    IReadOnlyList<Manifest> Manifests)
{
    /// <summary>The suite every folder ran (their manifests agree on it).</summary>
    public string SuiteSha256 => Manifests[0].SuiteSha256!;

    /// <summary>Reads and checks the folders; a folder that cannot join (no suite hash, another suite or harness) is an <see cref="InputException"/>.</summary>
    public static SubmissionSet Join(IReadOnlyList<string> folders)
    {
        var twice = folders.GroupBy(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))).FirstOrDefault(g => g.Count() > 1);
        if (twice != null) throw new InputException($"the results folder {twice.First()} is given twice", "name each submission's folder once");
        var read = folders.Select(ResultsFolder.Read).ToList();
        var manifests = read.Select(ManifestOf).ToList();
        for (int i = 1; i < read.Count; i++) CheckSameSuite(read[0], manifests[0], read[i], manifests[i]);

        var names = Submitters(folders);
        var tolerance = manifests[0].Tolerance!;
        var rows = new List<CellRow>();
        var seen = new Dictionary<(string CellId, int Seed), (CellRow Row, string By)>();
        var by = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var disagreements = new List<Disagreement>();
        for (int i = 0; i < read.Count; i++)
        {
            foreach (var row in read[i].Rows)
            {
                var submitters = by.TryGetValue(row.CellId, out var list) ? list : by[row.CellId] = [];
                if (!submitters.Contains(names[i])) submitters.Add(names[i]);
                if (!seen.TryGetValue(row.Key, out var earlier))
                {
                    seen[row.Key] = (row, names[i]);
                    rows.Add(row);
                    continue;
                }
                var moved = Verifier.Compare(metric => MatrixSpec.ToleranceIn(tolerance, metric), [BaselineCell.From([earlier.Row])], [BaselineCell.From([row])]);
                disagreements.AddRange(moved.Select(m => new Disagreement(earlier.By, names[i], row.Seed, m)));
            }
        }
        return new SubmissionSet([.. read.Select((f, i) => Submission.Of(names[i], f))], rows,
            by.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal), disagreements, manifests);
    }

    /// <summary>Each folder's submitter: its own name, or the folder as given where two folders share a name.</summary>
    public static IReadOnlyList<string> Submitters(IReadOnlyList<string> folders)
    {
        var own = folders.Select(f => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(f)))).ToList();
        return [.. own.Select((name, i) => name.Length == 0 || own.Count(n => n == name) > 1 ? folders[i] : name)];
    }

    private static Manifest ManifestOf(ResultsFolder folder)
    {
        var (version, _) = Results.Manifest.BuildInfo();
        string rerun = $"re-run the submission's matrix with this harness (defensebench {version}), which records the suite hash in manifest.json";
        var manifest = folder.Manifest
                       ?? throw new InputException($"{folder.Folder} has no {Results.Manifest.FileName}, so the suite it ran cannot be checked against the other folders", rerun);
        if (string.IsNullOrEmpty(manifest.SuiteSha256) || manifest.Tolerance == null)
            throw new InputException($"{new RunFolder(folder.Folder).Manifest} records no suite_sha256 (harness {manifest.HarnessVersion} wrote it, before suites were recorded)", rerun);
        return manifest;
    }

    /// <summary>Refuses two folders that are not of one suite and one harness version, saying every difference it can name.</summary>
    private static void CheckSameSuite(ResultsFolder firstFolder, Manifest first, ResultsFolder folder, Manifest manifest)
    {
        var differences = new List<string>();
        if (manifest.HarnessVersion != first.HarnessVersion)
            differences.Add($"{folder.Folder} was run with harness {manifest.HarnessVersion} and {firstFolder.Folder} with harness {first.HarnessVersion}");
        if (manifest.SuiteSha256 != first.SuiteSha256)
        {
            differences.Add($"{folder.Folder} ran suite {Short(manifest.SuiteSha256!)} and {firstFolder.Folder} suite {Short(first.SuiteSha256!)}");
            if (!manifest.Seeds.SequenceEqual(first.Seeds))
                differences.Add($"seeds [{string.Join(", ", manifest.Seeds)}] against [{string.Join(", ", first.Seeds)}]");
            if (!SameTolerance(manifest.Tolerance!, first.Tolerance!))
                differences.Add($"tolerance {{{Tolerance(manifest.Tolerance!)}}} against {{{Tolerance(first.Tolerance!)}}}");
            var mine = Measured(folder.Rows);
            var theirs = Measured(firstFolder.Rows);
            if (mine.Except(theirs).FirstOrDefault() is { } only) differences.Add($"{only} is in {folder.Folder} only");
            if (theirs.Except(mine).FirstOrDefault() is { } missing) differences.Add($"{missing} is in {firstFolder.Folder} only");
            if (differences.Count == 1) differences.Add("their matrices differ in a scenario, attack, round, utility training, δ or success_psnr");
        }
        if (differences.Count > 0)
            throw new InputException($"{folder.Folder} and {firstFolder.Folder} are not submissions of one suite: {string.Join("; ", differences)}",
                "publish one board per suite: every submitter runs the same matrix (only its defences may differ) with the same harness version");
    }

    /// <summary>"attack llg on synthetic-mnist dlg-lenet B=2 ...": the attacks and scenarios a folder measured.</summary>
    private static HashSet<string> Measured(IReadOnlyList<CellRow> rows) =>
        rows.Select(r => BaselineCell.From([r])).Select(c => $"attack {c.AttackText} on {c.Scenario}").ToHashSet(StringComparer.Ordinal);

    private static bool SameTolerance(IReadOnlyDictionary<string, double> a, IReadOnlyDictionary<string, double> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out double v) && v.Equals(kv.Value));

    private static string Tolerance(IReadOnlyDictionary<string, double> tolerance) =>
        string.Join(", ", tolerance.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}: {ParameterSpec.FormatReal(t.Value)}"));

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;
}
