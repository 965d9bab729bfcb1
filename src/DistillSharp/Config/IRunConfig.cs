namespace DistillSharp.Config;

/// <summary>What every config kind has: its kind, where its run goes by default, and its seed.</summary>
public interface IRunConfig
{
    /// <summary>The top-level <c>kind:</c> (<see cref="ConfigKinds"/>).</summary>
    string Kind { get; }

    /// <summary>Default run folder (<c>--out</c> overrides it).</summary>
    string Output { get; }

    /// <summary>Seed for weights, data order and sampling.</summary>
    int Seed { get; }
}
