using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Models.Classifier;

/// <summary>
/// Runs an exported sequence classifier (inputs input_ids, attention_mask, token_type_ids; output
/// <c>logits</c>) with ONNX Runtime: the deployed-file rows of a classification report.
/// </summary>
public sealed class OnnxRuntimeClassifier : IDisposable
{
    readonly InferenceSession _session;

    /// <summary>A session on <paramref name="onnx"/> with <paramref name="threads"/> intra-op threads (0 = ORT's default).</summary>
    public OnnxRuntimeClassifier(byte[] onnx, int threads = 0)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        _session = new InferenceSession(onnx, options);
        if (!_session.OutputMetadata.ContainsKey("logits"))
            throw new DistillSharpException($"the ONNX model has no 'logits' output (outputs: {string.Join(", ", _session.OutputMetadata.Keys)}); is it a classifier export?");
    }

    /// <summary>Logits (B, C) row-major of a tokenized batch.</summary>
    public float[] Logits(TokenBatch batch)
    {
        var dims = new[] { batch.Count, batch.Length };
        DenseTensor<long> T(long[,] a)
        {
            var flat = new long[a.Length];
            Buffer.BlockCopy(a, 0, flat, 0, a.Length * sizeof(long));
            return new DenseTensor<long>(flat, dims);
        }
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", T(batch.InputIds)),
            NamedOnnxValue.CreateFromTensor("attention_mask", T(batch.AttentionMask)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", T(batch.TokenTypeIds)),
        };
        using var results = _session.Run(inputs, ["logits"]);
        return results.First().AsTensor<float>().ToArray();
    }

    /// <summary>Class probabilities of <paramref name="texts"/>, in order (length-sorted batches).</summary>
    public float[][] Probabilities(IReadOnlyList<string> texts, BertTextTokenizer tokenizer, int classes, int batchSize = 32)
    {
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var idx = order.Skip(start).Take(batchSize).ToArray();
            var logits = Logits(tokenizer.EncodeBatch(idx.Select(i => texts[i]).ToList()));
            for (int j = 0; j < idx.Length; j++) result[idx[j]] = Int8Classifier.Softmax(logits.AsSpan(j * classes, classes));
        }
        return result;
    }

    /// <summary>A forward pass for timing (outputs dropped).</summary>
    public void RunDiscard(TokenBatch batch) => Logits(batch);

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();
}
