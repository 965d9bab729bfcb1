using static TorchSharp.torch;
using DistillSharp.Runtime.Decoder;

namespace DistillSharp.Evaluation.Decoder;

/// <summary>
/// Adapts an <see cref="Int8Decoder"/> to the logits function of
/// <see cref="Perplexity.Evaluate"/>, so the INT8 student's held-out perplexity is
/// computed by the same code as the TorchSharp models'.
/// </summary>
public static class Int8DecoderPerplexity
{
    /// <summary>
    /// (ids, attention mask) (B, T) int64 → logits (B, T, V) float32: each row's real tokens (mask 1,
    /// right or left padding) run through <see cref="Int8Decoder.Logits"/> as one sequence from
    /// position 0, their logits land at their positions, padded positions get 0 (they are not scored).
    /// </summary>
    public static Func<Tensor, Tensor, Tensor> Logits(Int8Decoder decoder)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        return (ids, mask) =>
        {
            if (ids.dim() != 2 || !ids.shape.SequenceEqual(mask.shape))
                throw new DistillSharpException($"ids and attention mask must both be (B, T), got [{string.Join(", ", ids.shape)}] and [{string.Join(", ", mask.shape)}]");
            int b = (int)ids.shape[0], t = (int)ids.shape[1], v = decoder.Config.VocabSize;
            long[] idData = ids.to_type(ScalarType.Int64).data<long>().ToArray(), maskData = mask.to_type(ScalarType.Int64).data<long>().ToArray();
            var result = new float[(long)b * t * v];
            for (int row = 0; row < b; row++)
            {
                var positions = Enumerable.Range(0, t).Where(j => maskData[row * t + j] != 0).ToArray();
                if (positions.Length == 0) continue;
                var logits = decoder.Logits(positions.Select(j => checked((int)idData[row * t + j])).ToArray());
                for (int i = 0; i < positions.Length; i++)
                    Array.Copy(logits, (long)i * v, result, ((long)row * t + positions[i]) * v, v);
            }
            return tensor(result, [b, t, v]);
        };
    }
}
