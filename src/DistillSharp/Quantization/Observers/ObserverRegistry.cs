namespace DistillSharp.Quantization.Observers;

/// <summary>
/// Every observer by its config name. Adding an observer = one file + one row here.
/// </summary>
public static class ObserverRegistry
{
    private static readonly Dictionary<string, Func<ObserverOptions, IObserver>> Factories = new(StringComparer.Ordinal)
    {
        ["minmax"] = o => new MinMaxObserver(o.Axis),
        ["moving_average_minmax"] = o => new MovingAverageMinMaxObserver(o.Momentum, o.Axis),
        ["percentile"] = o => new PercentileObserver(o.Percentile, o.Bins),
        ["mse"] = o => new MseObserver(o.Bins),
        ["entropy"] = o => new EntropyObserver(o.Bins),
    };

    /// <summary>Registered names, in registration order.</summary>
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>True when <paramref name="name"/> is registered.</summary>
    public static bool Contains(string name) => Factories.ContainsKey(name);

    /// <summary>Creates the observer called <paramref name="name"/>; unknown names list the known ones.</summary>
    public static IObserver Create(string name, ObserverOptions? options = null)
    {
        if (!Factories.TryGetValue(name, out var factory))
            throw new DistillSharpException($"unknown observer '{name}'; known observers: {string.Join(", ", Factories.Keys)}");
        return factory(options ?? new ObserverOptions());
    }
}
