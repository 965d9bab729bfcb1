using DistillSharp.Distillation.Divergences;
using DistillSharp.Models.Decoder;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>
/// A token-level distillation loss for language models: a <see cref="Divergence"/> D(P, Q) between
/// the teacher's (P) and student's (Q) next-token distributions at temperature T, computed per
/// position, scaled by T² (Hinton 2015: keeps gradient magnitudes comparable across T) and averaged
/// over the positions where the loss mask is true (response tokens in SFT, all tokens when
/// pre-training). Masked positions are selected away with <c>where</c>, so they contribute neither
/// value nor gradient, whatever the logits hold there.
/// </summary>
public sealed class TokenKdLoss
{
    /// <summary>Creates the loss at temperature <paramref name="temperature"/> (&gt; 0), named <paramref name="name"/> (default: the divergence's).</summary>
    public TokenKdLoss(Divergence divergence, double temperature = 1.0, string? name = null)
    {
        Name = name ?? divergence.Name;
        if (!(temperature > 0)) throw new DistillSharpException($"{Name}: temperature {temperature} must be > 0");
        Divergence = divergence;
        Temperature = temperature;
    }

    /// <summary>The divergence D(P, Q), P the teacher.</summary>
    public Divergence Divergence { get; }

    /// <summary>Registry name.</summary>
    public string Name { get; }

    /// <summary>Softmax temperature T.</summary>
    public double Temperature { get; }

    /// <summary>
    /// T² · mean over masked positions of D(P, Q): a scalar. <paramref name="studentLogits"/> (B, T, V),
    /// <paramref name="lossMask"/> (B, T) bool or 0/1.
    /// </summary>
    public Tensor Compute(Tensor studentLogits, KdTeacher teacher, Tensor lossMask)
    {
        var (logP, logQ) = teacher.Align(studentLogits, Temperature);  // (B, T, S) each
        var perToken = PerToken(logP, logQ);                            // (B, T)
        return NextTokenCrossEntropy.MaskedMean(perToken, lossMask) * (Temperature * Temperature);
    }

    /// <summary>The divergence per position over the last axis: (B, T, S) log-probs → (B, T).</summary>
    public Tensor PerToken(Tensor logP, Tensor logQ) => Divergence.PerPosition(logP, logQ);

}
