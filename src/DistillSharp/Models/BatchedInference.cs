using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Models;

/// <summary>Inference over many texts for the encoder family: length-sorted batches, eval mode, no gradients.</summary>
internal static class BatchedInference
{
    /// <summary>
    /// One row of <paramref name="pick"/> (a (B, D) tensor of the forward output) per text, in the
    /// texts' order. Sorting by length keeps padding low; rows go back to their original positions.
    /// The module's training mode is restored afterwards.
    /// </summary>
    public static float[][] Rows(nn.Module module, BertTextTokenizer tokenizer, Func<TokenBatch, ModelOutput> forward,
        Func<ModelOutput, Tensor> pick, IReadOnlyList<string> texts, int batchSize)
    {
        var result = new float[texts.Count][];
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
            for (int start = 0; start < order.Length; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var idx = order.Skip(start).Take(batchSize).ToArray();
                var rows = pick(forward(tokenizer.EncodeBatch(idx.Select(i => texts[i]).ToList()))).contiguous();
                var flat = rows.data<float>().ToArray();
                int d = (int)rows.shape[1];
                for (int j = 0; j < idx.Length; j++) result[idx[j]] = flat.AsSpan(j * d, d).ToArray();
            }
        }
        finally
        {
            module.train(wasTraining);
        }
        return result;
    }
}
