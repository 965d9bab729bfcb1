using static TorchSharp.torch;
using DistillSharp.Data.Decoder;
using DistillSharp.Models.Decoder;

namespace DistillSharp.Evaluation.Decoder;

/// <summary>Held-out language-modelling quality.</summary>
/// <param name="MeanNll">Mean negative log-likelihood per scored token, in nats.</param>
/// <param name="Perplexity">exp(MeanNll).</param>
/// <param name="Tokens">Scored tokens.</param>
public sealed record PerplexityResult(double MeanNll, double Perplexity, long Tokens);

/// <summary>Perplexity of a model (as a logits function) over scored positions of batches.</summary>
public static class Perplexity
{
    /// <summary>
    /// Σ NLL / Σ scored tokens over all batches (a token-weighted mean, not a mean of batch means),
    /// without gradients. <paramref name="logits"/> maps (ids, attention mask) (B, T) int64 → (B, T, V).
    /// </summary>
    public static PerplexityResult Evaluate(Func<Tensor, Tensor, Tensor> logits, IEnumerable<LmBatch> batches)
    {
        double nll = 0;
        long tokens = 0;
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var mask = batch.LossMaskTensor();
            var perToken = NextTokenCrossEntropy.PerToken(logits(batch.InputTensor(), batch.AttentionTensor()), batch.TargetTensor());
            nll += where(mask, perToken, zeros_like(perToken)).to_type(ScalarType.Float64).sum().item<double>();
            tokens += batch.ScoredTokens;
        }
        if (tokens == 0) throw new DistillSharpException("perplexity: the batches have no scored token");
        double mean = nll / tokens;
        return new PerplexityResult(mean, Math.Exp(mean), tokens);
    }
}
