namespace DefenseBench.Core.Components;

/// <summary>A registered component: its canonical id (as in matrix files and the CSV), parameters and factory.</summary>
public sealed record ComponentInfo<T>(string Id, string Summary, IReadOnlyList<ParameterSpec> Parameters, Func<ParameterValues, T> Factory)
{
    public T Create(ParameterValues values) => Factory(values);
    public T CreateDefault() => Factory(ParameterValues.Create(Parameters));
}

/// <summary>Maps canonical ids to components; one line per component registers it.</summary>
public class Catalog<T>
{
    private readonly Dictionary<string, ComponentInfo<T>> _byId = new(StringComparer.Ordinal);
    private readonly List<ComponentInfo<T>> _ordered = [];

    public Catalog<T> Add(string id, string summary, IReadOnlyList<ParameterSpec> parameters, Func<ParameterValues, T> factory)
    {
        var info = new ComponentInfo<T>(id, summary, parameters, factory);
        if (!_byId.TryAdd(id, info)) throw new InvalidOperationException($"'{id}' is registered twice.");
        _ordered.Add(info);
        return this;
    }

    public Catalog<T> Add(string id, string summary, Func<ParameterValues, T> factory) => Add(id, summary, [], factory);

    public IReadOnlyList<ComponentInfo<T>> All => _ordered;

    public bool TryGet(string id, out ComponentInfo<T> info) => _byId.TryGetValue(id, out info!);

    public ComponentInfo<T> Get(string id) =>
        _byId.TryGetValue(id, out var info) ? info : throw new KeyNotFoundException($"unknown id '{id}'; known: {string.Join(", ", Ids)}");

    public IEnumerable<string> Ids => _ordered.Select(i => i.Id);

    /// <summary>The known id closest to <paramref name="id"/> (edit distance), for "did you mean" hints.</summary>
    public string? Closest(string id) => Text.Closest(id, Ids);
}

/// <summary>
/// A catalog whose components describe themselves: every entry is registered with its <typeparamref name="TTraits"/>
/// (an attack's family, cost weight and primary metric; a defence's stateful options), so code that needs such a fact
/// reads it from the entry instead of a table of ids kept elsewhere. The overloads without traits cannot be called on
/// it, so an entry without them does not compile.
/// </summary>
public sealed class Catalog<T, TTraits> : Catalog<T> where TTraits : class
{
    private readonly Dictionary<string, TTraits> _traits = new(StringComparer.Ordinal);

    public Catalog<T, TTraits> Add(string id, string summary, TTraits traits, IReadOnlyList<ParameterSpec> parameters, Func<ParameterValues, T> factory)
    {
        ArgumentNullException.ThrowIfNull(traits);
        base.Add(id, summary, parameters, factory);
        _traits.Add(id, traits);
        return this;
    }

    public Catalog<T, TTraits> Add(string id, string summary, TTraits traits, Func<ParameterValues, T> factory) => Add(id, summary, traits, [], factory);

    [Obsolete("register the component with its traits", error: true)]
    public new Catalog<T, TTraits> Add(string id, string summary, IReadOnlyList<ParameterSpec> parameters, Func<ParameterValues, T> factory) =>
        throw new InvalidOperationException($"'{id}' needs its traits");

    [Obsolete("register the component with its traits", error: true)]
    public new Catalog<T, TTraits> Add(string id, string summary, Func<ParameterValues, T> factory) =>
        throw new InvalidOperationException($"'{id}' needs its traits");

    /// <summary>The traits of a registered id.</summary>
    public TTraits TraitsOf(string id) =>
        _traits.TryGetValue(id, out var traits) ? traits : throw new KeyNotFoundException($"unknown id '{id}'; known: {string.Join(", ", Ids)}");

    public bool TryGetTraits(string id, out TTraits traits) => _traits.TryGetValue(id, out traits!);
}
