namespace DistillSharp.Distillation.Divergences;

/// <summary>A divergence by name and its options (options a divergence does not use are ignored).</summary>
/// <param name="Name">Registry name.</param>
/// <param name="Beta">JSD teacher weight β ∈ [0, 1].</param>
/// <param name="Alpha">Skew α ∈ [0, 1) of the skew KLs.</param>
public sealed record DivergenceSpec(string Name = "forward_kl", double Beta = 0.5, double Alpha = 0.1);

/// <summary>
/// Every divergence by name, one row each — the names and option ranges both families share
/// (encoder logit losses and decoder token KD). <c>kl</c> is the short name of <c>forward_kl</c>.
/// </summary>
public static class DivergenceRegistry
{
    /// <summary>Name → (one line for humans, the options it reads, factory).</summary>
    public static readonly IReadOnlyDictionary<string, (string Summary, string[] Options, Func<DivergenceSpec, Divergence> Create)> All =
        new Dictionary<string, (string, string[], Func<DivergenceSpec, Divergence>)>(StringComparer.Ordinal)
        {
            ["forward_kl"] = ("KL(teacher ‖ student) (Hinton 2015)", [], _ => new ForwardKl()),
            ["kl"] = ("short name of forward_kl", [], _ => new ForwardKl()),
            ["reverse_kl"] = ("KL(student ‖ teacher) (MiniLLM)", [], _ => new ReverseKl()),
            ["jsd"] = ("generalised JSD(β); β = 0 forward KL, β = 1 reverse KL (GKD)", ["beta"], s => new Jsd(s.Beta)),
            ["skew_kl"] = ("KL(P ‖ αP + (1 − α)Q) (DistiLLM)", ["alpha"], s => new SkewKl(s.Alpha, reverse: false)),
            ["skew_reverse_kl"] = ("KL(Q ‖ (1 − α)P + αQ) (DistiLLM)", ["alpha"], s => new SkewKl(s.Alpha, reverse: true)),
        };

    /// <summary>The known names, comma-separated.</summary>
    public static string KnownNames => string.Join(", ", All.Keys);

    /// <summary>Builds the divergence a spec names.</summary>
    public static Divergence Create(DivergenceSpec spec) =>
        All.TryGetValue(spec.Name, out var entry) ? entry.Create(spec)
            : throw new DistillSharpException($"unknown divergence '{spec.Name}'; known: {KnownNames}");
}
