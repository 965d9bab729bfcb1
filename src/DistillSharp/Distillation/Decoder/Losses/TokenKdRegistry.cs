namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>Which token KD loss and its options (options a loss does not use are ignored).</summary>
/// <param name="Name">Registry name.</param>
/// <param name="Temperature">Softmax temperature T (&gt; 0); the loss is scaled by T².</param>
/// <param name="Beta">JSD teacher weight β ∈ [0, 1].</param>
/// <param name="Alpha">Skew α ∈ [0, 1) of the skew KLs.</param>
public sealed record TokenKdSpec(string Name = "forward_kl", double Temperature = 1.0, double Beta = 0.5, double Alpha = 0.1);

/// <summary>Every token-level KD loss by name — one row each; unknown names list the known ones.</summary>
public static class TokenKdRegistry
{
    /// <summary>Name → (one line for humans, factory).</summary>
    public static readonly IReadOnlyDictionary<string, (string Summary, Func<TokenKdSpec, TokenKdLoss> Create)> All =
        new Dictionary<string, (string, Func<TokenKdSpec, TokenKdLoss>)>(StringComparer.Ordinal)
        {
            ["forward_kl"] = ("T²·KL(teacher ‖ student) (Hinton 2015)", s => new ForwardKlTokenLoss(s.Temperature)),
            ["reverse_kl"] = ("T²·KL(student ‖ teacher) (MiniLLM)", s => new ReverseKlTokenLoss(s.Temperature)),
            ["jsd"] = ("T²·generalised JSD(β); β = 0 forward KL, β = 1 reverse KL (GKD)", s => new JsdTokenLoss(s.Beta, s.Temperature)),
            ["skew_kl"] = ("T²·KL(P ‖ αP + (1 − α)Q) (DistiLLM)", s => new SkewKlTokenLoss(s.Alpha, s.Temperature)),
            ["skew_reverse_kl"] = ("T²·KL(Q ‖ (1 − α)P + αQ) (DistiLLM)", s => new SkewReverseKlTokenLoss(s.Alpha, s.Temperature)),
        };

    /// <summary>The known names, comma-separated.</summary>
    public static string KnownNames => string.Join(", ", All.Keys);

    /// <summary>Builds the loss a spec names.</summary>
    public static TokenKdLoss Create(TokenKdSpec spec) =>
        All.TryGetValue(spec.Name, out var entry) ? entry.Create(spec)
            : throw new DistillSharpException($"unknown token KD loss '{spec.Name}'; known: {KnownNames}");
}
