using DefenseBench.Core.Components;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Tests.Components;

public sealed class ParameterSpecTests
{
    /// <summary>The shape of top-k's keep: a fraction in (0, 1].</summary>
    private static readonly ParameterSpec Keep = ParameterSpec.Real("keep", 0.1, "fraction kept", 0, 1, minExclusive: true);
    private static readonly ParameterSpec Scope = ParameterSpec.Choice("scope", "layer", "ranking scope", "layer", "global", "last-layer");
    private static readonly ParameterSpec Ef = ParameterSpec.Switch("ef", false, "error feedback");
    private static readonly ParameterSpec Steps = ParameterSpec.Integer("steps", 10, "local steps", min: 1);

    private static object Parsed(ParameterSpec spec, string text)
    {
        string? error = spec.TryParse(text, out object value);
        Assert.True(error == null, error);
        return value;
    }

    private static string Error(ParameterSpec spec, string text)
    {
        string? error = spec.TryParse(text, out _);
        Assert.NotNull(error);
        return error;
    }

    [Theory]
    [InlineData("0.25", 0.25)]
    [InlineData(" 1e-3 ", 0.001)]
    [InlineData("1", 1.0)]
    [InlineData("-7.5", -7.5)]
    public void Reals_parse_in_the_invariant_culture(string text, double expected)
    {
        Assert.Equal(expected, Parsed(ParameterSpec.Real("x", 0, "x"), text));
    }

    [Theory]
    [InlineData("inf", double.PositiveInfinity)]
    [InlineData(".inf", double.PositiveInfinity)]
    [InlineData("+Inf", double.PositiveInfinity)]
    [InlineData("Infinity", double.PositiveInfinity)]
    [InlineData("-inf", double.NegativeInfinity)]
    [InlineData("-.inf", double.NegativeInfinity)]
    public void Infinity_is_written_inf(string text, double expected)
    {
        Assert.Equal(expected, Parsed(ParameterSpec.Real("clip", 1, "clip"), text));
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("NaN")]
    [InlineData("abc")]
    [InlineData("0,5")]
    [InlineData("")]
    public void Non_numbers_are_rejected(string text)
    {
        Assert.Equal($"'{text}' is not a number", Error(ParameterSpec.Real("x", 0.5, "x"), text));
    }

    [Fact]
    public void Keep_excludes_zero_and_includes_one()
    {
        Assert.Equal("0 is out of range", Error(Keep, "0"));
        Assert.Equal("-0.1 is out of range", Error(Keep, "-0.1"));
        Assert.Equal(1.0, Parsed(Keep, "1"));
        Assert.Equal(1e-9, Parsed(Keep, "1e-9"));
        Assert.Equal("1.5 is out of range", Error(Keep, "1.5"));
        Assert.Equal("inf is out of range", Error(Keep, "inf"));
    }

    [Fact]
    public void An_exclusive_maximum_rejects_the_bound_itself()
    {
        var spec = ParameterSpec.Real("p", 0.5, "probability", 0, 1, maxExclusive: true);

        Assert.Equal(0.0, Parsed(spec, "0"));
        Assert.Equal(0.999, Parsed(spec, "0.999"));
        Assert.Equal("1 is out of range", Error(spec, "1"));
    }

    [Fact]
    public void Integers_parse_and_respect_their_minimum()
    {
        Assert.Equal(12L, Parsed(Steps, "12"));
        Assert.Equal(1L, Parsed(Steps, " 1 "));
        Assert.Equal("0 is out of range", Error(Steps, "0"));
        Assert.Equal("'2.5' is not an integer", Error(Steps, "2.5"));
        Assert.Equal("'1e3' is not an integer", Error(Steps, "1e3"));
    }

    [Fact]
    public void Choices_match_case_insensitively_and_return_the_canonical_spelling()
    {
        Assert.Equal("global", Parsed(Scope, "GLOBAL"));
        Assert.Equal("last-layer", Parsed(Scope, " Last-Layer "));
        Assert.Equal("'lastlayer' is not one of layer | global | last-layer", Error(Scope, "lastlayer"));
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("ON", true)]
    [InlineData("true", true)]
    [InlineData("yes", true)]
    [InlineData("off", false)]
    [InlineData("False", false)]
    [InlineData("no", false)]
    public void Switches_read_on_off_true_false(string text, bool expected)
    {
        Assert.Equal(expected, Parsed(Ef, text));
    }

    [Fact]
    public void Other_switch_words_are_rejected()
    {
        Assert.Equal("'1' is not on or off", Error(Ef, "1"));
        Assert.Equal("'maybe' is not on or off", Error(Ef, "maybe"));
    }

    [Fact]
    public void Domains_describe_what_to_write()
    {
        Assert.Equal("a number in (0, 1]", Keep.Domain);
        Assert.Equal("a number in [0, 1)", ParameterSpec.Real("p", 0.5, "", 0, 1, maxExclusive: true).Domain);
        Assert.Equal("a number >= 0", ParameterSpec.Real("z", 1, "", min: 0).Domain);
        Assert.Equal("a number > 0", ParameterSpec.Real("lr", 1, "", min: 0, minExclusive: true).Domain);
        Assert.Equal("a number", ParameterSpec.Real("x", 0, "").Domain);
        Assert.Equal("an integer >= 1", Steps.Domain);
        Assert.Equal("an integer", ParameterSpec.Integer("n", 0, "").Domain);
        Assert.Equal("layer | global | last-layer", Scope.Domain);
        Assert.Equal("on | off", Ef.Domain);
    }

    [Fact]
    public void Values_format_canonically()
    {
        Assert.Equal("0.1", Keep.Format(0.1));
        Assert.Equal("1", Keep.Format(1.0));
        Assert.Equal("inf", Keep.Format(double.PositiveInfinity));
        Assert.Equal("-inf", Keep.Format(double.NegativeInfinity));
        Assert.Equal("10", Steps.Format(10L));
        Assert.Equal("10", Steps.Format(10));
        Assert.Equal("on", Ef.Format(true));
        Assert.Equal("off", Ef.Format(false));
        Assert.Equal("global", Scope.Format("global"));
    }

    [Fact]
    public void Formatted_reals_parse_back_to_the_same_double()
    {
        var rng = new Rng(5);
        var values = new List<double> { 0.1, 1.0 / 3, 1e-12, 123456789.125, double.Epsilon, double.MaxValue, double.PositiveInfinity, -0.0 };
        for (int i = 0; i < 200; i++) values.Add(Math.Pow(10, rng.Uniform(-8, 8)) * (rng.NextInt(2) == 0 ? 1 : -1));

        foreach (double v in values)
        {
            string text = ParameterSpec.FormatReal(v);
            Assert.True(ParameterSpec.TryParseReal(text, out double back), text);
            Assert.Equal(BitConverter.DoubleToInt64Bits(v), BitConverter.DoubleToInt64Bits(back));
        }
    }
}
