using DefenseBench.Core.Components;
using DefenseBench.Harness.Matrix;
using DefenseBench.Harness.Tests.Support;

namespace DefenseBench.Harness.Tests.Matrix;

/// <summary>The matrix's exec entries: canonical names and sweeps, and every malformed entry reported with its line and fix (exit 2).</summary>
public sealed class ExecMatrixTests : IDisposable
{
    private readonly TempFolder _temp = new();

    /// <summary>A matrix in the temp folder (beside a defend.py, so commands may name it) whose defences start at line 9.</summary>
    private string Write(string defenses)
    {
        _temp.Write("defend.py", "");
        return _temp.Write("m.yaml", $"""
            name: exec-matrix
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 2
                attacks: [llg]
                defenses:
            {defenses}
            """);
    }

    private IReadOnlyList<InputException> Errors(string defenses)
    {
        string path = Write(defenses);
        return Assert.Throws<MatrixException>(() => MatrixLoader.Load(path)).Errors;
    }

    [Fact]
    public void A_list_in_params_is_a_sweep_and_each_value_has_its_canonical_name()
    {
        var matrix = MatrixLoader.Load(Write("""
                  - exec: {command: "python3 defend.py", name: prune, params: {keep: [0.1, 0.5], mode: fast}}
                  - pipeline: [{exec: {command: "python3 defend.py", name: first, persistent: on, timeout: 5}}, {topk: {keep: 0.5}}]
            """));
        Assert.Equal(["exec(name=prune,keep=0.1,mode=fast)", "exec(name=prune,keep=0.5,mode=fast)", "exec(name=first)>topk(keep=0.5,scope=layer,ef=off)"],
            matrix.Cells.Select(c => c.Defense.Canonical));
        var first = Assert.Single(matrix.Cells[2].Defense.ExecStages);
        Assert.True(first.Persistent);
        Assert.Equal(TimeSpan.FromSeconds(5), first.Timeout);
        Assert.Equal(_temp.Path, first.Folder);
        Assert.Equal(Defenses.External.ExecSettings.DefaultTimeout, matrix.Cells[0].Defense.ExecStages.Single().Timeout);
    }

    [Fact]
    public void The_order_of_params_in_the_file_does_not_change_the_cell()
    {
        var a = MatrixLoader.Load(Write("      - exec: {command: \"python3 defend.py\", name: p, params: {b: 1, a: 2}}"));
        var b = MatrixLoader.Load(Write("      - exec: {command: \"python3 defend.py\", name: p, params: {a: 2, b: 1}}"));
        Assert.Equal("exec(name=p,a=2,b=1)", a.Cells[0].Defense.Canonical);
        Assert.Equal(a.Cells[0].Id, b.Cells[0].Id);
    }

    [Theory]
    [InlineData("      - exec: {name: prune}", "exec has no command", "add command:")]
    [InlineData("      - exec: {command: \"python3 defend.py\"}", "exec has no name", "add name:")]
    [InlineData("      - exec: {command: \"python3 missing.py\", name: p}", "exec command names 'missing.py'", "paths are relative to it")]
    [InlineData("      - exec: {command: \"python3 'defend.py\", name: p}", "the single quote opened in the command is not closed", "quoting")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: 'a b'}", "exec name 'a b' is not a plain name", "use letters")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: p, param: {k: 1}}", "exec has no key 'param'", "did you mean 'params'?")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: p, params: [1]}", "exec params must be a map", "write params:")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: p, params: {k: 'a,b'}}", "cannot be spelled in a canonical name", "no blanks, commas")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: p, params: {k: []}}", "exec k: the list of values is empty", "write a value")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: p, params: {name: x}}", "cannot be called 'name'", "use letters")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: p, timeout: -1}", "exec timeout '-1' is not a number of seconds", "timeout: 60")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: p, persistent: maybe}", "exec persistent 'maybe' is not on or off", "persistent: on")]
    [InlineData("      - exec: python3 defend.py", "exec takes a map", "write exec:")]
    public void A_malformed_exec_entry_is_reported_with_its_line_and_fix(string entry, string message, string fix) =>
        OneError(Errors(entry), 9, message, fix);

    private static void OneError(IReadOnlyList<InputException> errors, int line, string message, string fix)
    {
        var error = Assert.Single(errors);
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains(fix, error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void One_name_for_two_commands_is_refused_since_their_cells_would_share_an_id()
    {
        _temp.Write("other.py", "");
        var error = Assert.Single(Errors("""
                  - exec: {command: "python3 defend.py", name: prune}
                  - exec: {command: "python3 other.py", name: prune}
            """));
        Assert.Equal(10, error.Line);
        Assert.Contains("exec name 'prune' already names the command `python3 defend.py` (line 9)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_refuses_a_matrix_whose_exec_entry_lacks_a_command_with_exit_2_naming_file_and_line()
    {
        string path = Write("      - none\n      - exec: {name: prune}");
        var result = InProcess.Expect(2, "run", path, "--out", _temp["out"], "--device", "cpu");
        Assert.Contains($"{path}:10: exec has no command", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp["out"]));
    }

    /// <summary>A matrix beside defend.py whose attacks start at line 8.</summary>
    private string WriteAttacks(string attacks)
    {
        _temp.Write("defend.py", "");
        return _temp.Write("a.yaml", $"""
            name: exec-attacks
            blocks:
              - name: b
                dataset: synthetic-mnist
                model: dlg-lenet
                batch_size: 2
                attacks:
            {attacks}
                defenses: [none]
            """);
    }

    [Fact]
    public void An_exec_attack_is_named_exec_with_its_parameters_and_carries_its_needs()
    {
        var matrix = MatrixLoader.Load(WriteAttacks("""
                  - llg
                  - exec: {command: "python3 defend.py", name: rowsum, needs: [individual-updates, fc-bias], params: {t: [1, 2]}, timeout: 5}
            """));
        Assert.Equal(["llg", "exec(name=rowsum,t=1)", "exec(name=rowsum,t=2)"], matrix.Cells.Select(c => c.Attack.Canonical));
        var exec = matrix.Cells[1].Attack;
        Assert.Equal(("exec", "name=rowsum,t=1"), (exec.Id, exec.Parameters));
        var attack = exec.Create();
        Assert.Equal(Core.Attacks.AttackNeeds.IndividualUpdates | Core.Attacks.AttackNeeds.FcBias, attack.Needs);
        Assert.Equal(TimeSpan.FromSeconds(5), exec.Exec!.Timeout);
        Assert.Equal(_temp.Path, exec.Exec.Folder);
        Assert.NotEqual(matrix.Cells[1].Id, matrix.Cells[2].Id);
    }

    [Theory]
    [InlineData("      - exec: {name: rowsum}", "exec has no command", "add command: \"python3 my_attack.py\"")]
    [InlineData("      - exec: {command: \"python3 defend.py\"}", "exec has no name", "add name:")]
    [InlineData("      - exec: {command: \"python3 missing.py\", name: r}", "exec command names 'missing.py'", "paths are relative to it")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: r, needs: [individual-update]}", "exec needs 'individual-update' is not something an external attack can be given", "did you mean 'individual-updates'?")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: r, needs: [auxiliary-data]}", "exec needs 'auxiliary-data'", "individual-updates, fc-bias, known-classes")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: r, persistent: on}", "exec has no key 'persistent'", "its keys are command, name, needs, params, timeout")]
    [InlineData("      - exec: {command: \"python3 defend.py\", name: r, timeout: 0}", "exec timeout '0' is not a number of seconds", "timeout: 60")]
    [InlineData("      - exec: python3 defend.py", "exec takes a map", "write exec: {command: \"python3 my_attack.py\"")]
    public void A_malformed_exec_attack_is_reported_with_its_line_and_fix(string entry, string message, string fix)
    {
        string path = WriteAttacks(entry);
        OneError(Assert.Throws<MatrixException>(() => MatrixLoader.Load(path)).Errors, 8, message, fix);
    }

    [Fact]
    public void Run_refuses_an_exec_attack_without_a_command_with_exit_2_naming_file_and_line()
    {
        string path = WriteAttacks("      - llg\n      - exec: {name: rowsum, needs: [individual-updates]}");
        var result = InProcess.Expect(2, "run", path, "--out", _temp["out"], "--device", "cpu");
        Assert.Contains($"{path}:9: exec has no command", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp["out"]));
    }

    public void Dispose() => _temp.Dispose();
}
