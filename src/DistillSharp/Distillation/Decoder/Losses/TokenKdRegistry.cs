using DistillSharp.Distillation.Divergences;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>Which token KD loss and its options (options a loss does not use are ignored).</summary>
/// <param name="Name">A <see cref="DivergenceRegistry"/> name.</param>
/// <param name="Temperature">Softmax temperature T (&gt; 0); the loss is scaled by T².</param>
/// <param name="Beta">JSD teacher weight β ∈ [0, 1].</param>
/// <param name="Alpha">Skew α ∈ [0, 1) of the skew KLs.</param>
public sealed record TokenKdSpec(string Name = "forward_kl", double Temperature = 1.0, double Beta = 0.5, double Alpha = 0.1);

/// <summary>Token-level KD losses: one per <see cref="DivergenceRegistry"/> row (the same names and ranges as the encoder's logit losses).</summary>
public static class TokenKdRegistry
{
    /// <summary>The known names, comma-separated.</summary>
    public static string KnownNames => DivergenceRegistry.KnownNames;

    /// <summary>Builds the loss a spec names.</summary>
    public static TokenKdLoss Create(TokenKdSpec spec)
    {
        if (!DivergenceRegistry.All.ContainsKey(spec.Name))
            throw new DistillSharpException($"unknown token KD loss '{spec.Name}'; known: {KnownNames}");
        return new TokenKdLoss(DivergenceRegistry.Create(new DivergenceSpec(spec.Name, spec.Beta, spec.Alpha)), spec.Temperature, spec.Name);
    }
}
