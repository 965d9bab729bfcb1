// The divergences of knowledge distillation between the teacher's distribution P and the student's
// Q, both softmax(z / T) over the last axis, given as log-probabilities:
//   forward_kl        KL(P ‖ Q) = Σ_v P_v (log P_v − log Q_v)      Hinton et al. 2015; Kim & Rush 2016
//                     mean-seeking: the student spreads mass over every token the teacher finds plausible
//   reverse_kl        KL(Q ‖ P)                                      MiniLLM, Gu et al. 2024; mode-seeking
//   jsd(β)            β·KL(P ‖ M) + (1 − β)·KL(Q ‖ M), M = βP + (1 − β)Q   GKD, Agarwal et al. 2024
//                     JSD(β)/β → KL(P ‖ Q) as β → 0 and JSD(β)/(1 − β) → KL(Q ‖ P) as β → 1 (GKD §3),
//                     so β = 0 is defined as forward KL and β = 1 as reverse KL: the limits, not the
//                     vanishing value; β ∈ [0, 1]
//   skew_kl(α)        KL(P ‖ αP + (1 − α)Q)                          DistiLLM, Ko et al. 2024, Eq. 3
//   skew_reverse_kl(α) KL(Q ‖ (1 − α)P + αQ)                         DistiLLM Eq. 4; α ∈ [0, 1), α = 0 the plain KL
// Mixing some of one side into the other bounds the log-ratio by log(1/α), which keeps the gradient
// finite where a probability is ≈ 0. log of a mixture is a logsumexp, which never takes log 0.
// Losses built on these scale by T² (Hinton 2015: keeps gradient magnitudes comparable across T).
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Divergences;

/// <summary>
/// A divergence D(P, Q) between the teacher's (P) and the student's (Q) distributions, per position
/// over the last axis — the one implementation both the encoder's logit losses and the decoders'
/// token KD use. Built by name from <see cref="DivergenceRegistry"/>.
/// </summary>
public abstract class Divergence
{
    /// <summary>Creates the divergence called <paramref name="name"/>.</summary>
    protected Divergence(string name) => Name = name;

    /// <summary>Registry name.</summary>
    public string Name { get; }

    /// <summary>D(P, Q) per position: (…, S) log-probabilities → (…).</summary>
    public abstract Tensor PerPosition(Tensor logP, Tensor logQ);

    /// <summary>KL(A ‖ B) = Σ a (log a − log b) over the last axis.</summary>
    public static Tensor Kl(Tensor logA, Tensor logB) => (logA.exp() * (logA - logB)).sum(-1);

    /// <summary>log(w·A + (1 − w)·B) for 0 &lt; w &lt; 1, as a logsumexp (never log 0).</summary>
    public static Tensor LogMix(Tensor logA, Tensor logB, double w) =>
        stack([logA + Math.Log(w), logB + Math.Log(1 - w)]).logsumexp(0);
}

/// <summary>KL(P ‖ Q).</summary>
public sealed class ForwardKl() : Divergence("forward_kl")
{
    /// <inheritdoc/>
    public override Tensor PerPosition(Tensor logP, Tensor logQ) => Kl(logP, logQ);
}

/// <summary>KL(Q ‖ P).</summary>
public sealed class ReverseKl() : Divergence("reverse_kl")
{
    /// <inheritdoc/>
    public override Tensor PerPosition(Tensor logP, Tensor logQ) => Kl(logQ, logP);
}

/// <summary>Generalised JSD(β), β ∈ [0, 1] the teacher's weight in M.</summary>
public sealed class Jsd : Divergence
{
    /// <summary>Creates JSD(<paramref name="beta"/>).</summary>
    public Jsd(double beta) : base("jsd")
    {
        if (!(beta >= 0 && beta <= 1)) throw new DistillSharpException($"jsd: beta {beta} must be in [0, 1]");
        Beta = beta;
    }

    /// <summary>β.</summary>
    public double Beta { get; }

    /// <inheritdoc/>
    public override Tensor PerPosition(Tensor logP, Tensor logQ)
    {
        if (Beta == 0) return Kl(logP, logQ);
        if (Beta == 1) return Kl(logQ, logP);
        var logM = LogMix(logP, logQ, Beta);
        return Beta * Kl(logP, logM) + (1 - Beta) * Kl(logQ, logM);
    }
}

/// <summary>The two α-skew KLs: KL(A ‖ αA + (1 − α)B) with A the teacher (skew_kl) or the student (skew_reverse_kl).</summary>
public sealed class SkewKl : Divergence
{
    readonly bool _studentFirst;

    /// <summary>Creates skew_kl(α), or skew_reverse_kl(α) when <paramref name="reverse"/>.</summary>
    public SkewKl(double alpha, bool reverse) : base(reverse ? "skew_reverse_kl" : "skew_kl")
    {
        if (!(alpha >= 0 && alpha < 1)) throw new DistillSharpException($"{Name}: alpha {alpha} must be in [0, 1)");
        Alpha = alpha;
        _studentFirst = reverse;
    }

    /// <summary>Share of the first distribution mixed into the second.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override Tensor PerPosition(Tensor logP, Tensor logQ)
    {
        var (a, b) = _studentFirst ? (logQ, logP) : (logP, logQ);
        return Kl(a, Alpha == 0 ? b : LogMix(a, b, Alpha));
    }
}
