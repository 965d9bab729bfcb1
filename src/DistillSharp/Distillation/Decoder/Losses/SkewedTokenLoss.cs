using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>
/// The two α-skew KL directions (DistiLLM): KL(A ‖ α·A + (1 − α)·B), which differ only in which
/// distribution is A. Holds α (checked in [0, 1)) and the shared formula; α = 0 is the plain KL.
/// </summary>
public abstract class SkewedTokenLoss : TokenKdLoss
{
    /// <summary>Creates the loss <paramref name="name"/> with skew <paramref name="alpha"/> at <paramref name="temperature"/>.</summary>
    protected SkewedTokenLoss(string name, double alpha, double temperature) : base(name, temperature)
    {
        if (!(alpha >= 0 && alpha < 1)) throw new DistillSharpException($"{name}: alpha {alpha} must be in [0, 1)");
        Alpha = alpha;
    }

    /// <summary>Share of the first distribution mixed into the second.</summary>
    public double Alpha { get; }

    /// <summary>KL(A ‖ α·A + (1 − α)·B) per token, from log-probabilities.</summary>
    protected Tensor Skewed(Tensor logA, Tensor logB) => Kl(logA, Alpha == 0 ? logB : LogMix(logA, logB, Alpha));
}
