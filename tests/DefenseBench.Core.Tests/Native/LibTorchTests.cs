using DefenseBench.Core.Components;
using DefenseBench.Core.Native;
using TorchSharp;

namespace DefenseBench.Core.Tests.Native;

/// <summary>How a -p:TorchBackend=system build finds libtorch, and what the process reports about the libtorch it loaded.</summary>
public sealed class LibTorchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("libtorch-tests-").FullName;

    /// <summary>A folder that looks like a libtorch lib/ folder (an empty libtorch_cpu file is all Locate looks for).</summary>
    private string Install(string name)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, LibTorch.LibraryFile("torch_cpu")), "");
        return folder;
    }

    private static Func<string, string?> Environment(string? variable = null, string? searchPath = null) => name =>
        name == LibTorch.EnvironmentVariable ? variable : name == LibTorch.SearchPathVariable ? searchPath : null;

    [Fact]
    public void The_option_wins_over_the_variable_and_the_search_path()
    {
        string option = Install("option"), variable = Install("variable"), searchPath = Install("search");

        var found = LibTorch.Locate(option, Environment(variable, searchPath));

        Assert.Equal(new LibTorchLocation(option, LibTorch.OptionName), found);
    }

    [Fact]
    public void Without_the_option_the_variable_wins_over_the_search_path()
    {
        string variable = Install("variable"), searchPath = Install("search");

        var found = LibTorch.Locate(null, Environment(variable, searchPath));

        Assert.Equal(new LibTorchLocation(variable, LibTorch.EnvironmentVariable), found);
    }

    [Fact]
    public void The_search_path_gives_its_first_folder_that_holds_libtorch_cpu()
    {
        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        string first = Install("first"), second = Install("second");

        var found = LibTorch.Locate(null, Environment(searchPath: string.Join(Path.PathSeparator, empty, first, second)));

        Assert.Equal(new LibTorchLocation(first, LibTorch.SearchPathVariable), found);
    }

    [Fact]
    public void A_pytorch_package_folder_is_accepted_for_its_lib_folder()
    {
        string lib = Install(Path.Combine("site-packages", "torch", "lib"));

        var found = LibTorch.Locate(Path.GetDirectoryName(lib), Environment());

        Assert.Equal(lib, found.Directory);
    }

    [Fact]
    public void With_no_way_given_the_error_names_all_three()
    {
        var error = Assert.Throws<InputException>(() => LibTorch.Locate(null, Environment(searchPath: Path.Combine(_dir, "nothing-here"))));

        string text = error.Describe();
        Assert.Contains("--libtorch", text, StringComparison.Ordinal);
        Assert.Contains("DEFENSEBENCH_LIBTORCH", text, StringComparison.Ordinal);
        Assert.Contains(LibTorch.SearchPathVariable, text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--libtorch")]
    [InlineData("DEFENSEBENCH_LIBTORCH")]
    public void A_named_folder_without_libtorch_is_an_error_naming_it_and_the_ways(string way)
    {
        string empty = Path.Combine(_dir, "no-libtorch");
        Directory.CreateDirectory(empty);

        var error = Assert.Throws<InputException>(() => way == "--libtorch"
            ? LibTorch.Locate(empty, Environment(searchPath: Install("would-do")))
            : LibTorch.Locate(null, Environment(variable: empty, searchPath: Install("would-do"))));

        Assert.StartsWith($"{way} {empty}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("DEFENSEBENCH_LIBTORCH", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void The_install_version_comes_from_pytorch_version_py_or_a_libtorch_build_version()
    {
        string torch = Install(Path.Combine("py", "torch", "lib"));
        File.WriteAllText(Path.Combine(torch, "..", "version.py"), "from typing import Optional\n__version__ = '2.11.0+cu130'\ngit_version = 'abc'\n");
        string archive = Install(Path.Combine("zip", "libtorch", "lib"));
        File.WriteAllText(Path.Combine(archive, "..", "build-version"), "2.10.0+cpu\n");

        Assert.Equal("PyTorch 2.11.0+cu130", LibTorch.InstallVersion(torch));
        Assert.Equal("libtorch 2.10.0+cpu", LibTorch.InstallVersion(archive));
        Assert.Null(LibTorch.InstallVersion(Install("nuget")));
    }

    [Fact]
    public void The_test_build_uses_the_default_cpu_backend_which_ships_libtorch()
    {
        Assert.Equal("cpu", LibTorch.Backend);
        Assert.True(LibTorch.Bundled);
        LibTorch.Require();
        Assert.Null(LibTorch.Location);
    }

    [Fact]
    public void The_loaded_libtorch_cpu_is_found_in_the_process_maps()
    {
        using (torch.NewDisposeScope()) _ = torch.ones(2).sum().item<float>();

        string? path = LibTorch.LoadedFrom("torch_cpu");

        Assert.NotNull(path);
        Assert.EndsWith("/" + LibTorch.LibraryFile("torch_cpu"), path, StringComparison.Ordinal);
        Assert.True(File.Exists(path), path);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
