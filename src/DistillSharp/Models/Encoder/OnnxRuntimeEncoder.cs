using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// Runs a BERT-family ONNX encoder with ONNX Runtime: the reference our TorchSharp encoder is tested
/// against, and the baseline it is benchmarked against. Optionally exposes every Softmax output
/// (the attention probabilities) by adding them as graph outputs.
/// </summary>
public sealed class OnnxRuntimeEncoder : IDisposable
{
    readonly InferenceSession _session;
    readonly bool _hasTokenTypes;

    /// <summary>Names of the Softmax outputs in graph order (one per layer), when exposed.</summary>
    public IReadOnlyList<string> AttentionOutputs { get; }

    /// <summary>
    /// Creates a session; <paramref name="threads"/> sets intra-op threads (0 = ORT default).
    /// <paramref name="optimize"/> lets ORT fuse the graph (for speed); without it ORT evaluates the
    /// graph node by node, which is the plainest reference for numerical comparisons.
    /// </summary>
    public OnnxRuntimeEncoder(byte[] onnx, bool exposeAttentions = false, int threads = 0, bool optimize = true)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var softmax = model.Graph.Node.Where(n => n.OpType == "Softmax").Select(n => n.Output[0]).ToList();
        if (exposeAttentions)
        {
            foreach (string name in softmax)
            {
                model.Graph.Output.Add(new ValueInfoProto
                {
                    Name = name,
                    Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
                });
            }
            onnx = model.ToByteArray();
        }
        AttentionOutputs = exposeAttentions ? softmax : [];
        _hasTokenTypes = model.Graph.Input.Any(i => i.Name == "token_type_ids");
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        if (threads > 0) options.IntraOpNumThreads = threads;
        _session = new InferenceSession(onnx, options);
    }

    /// <summary>Runs a batch: last_hidden_state (B, T, H) flattened, and the exposed attentions (B, h, T, T) flattened.</summary>
    public (float[] LastHiddenState, int[] Shape, IReadOnlyList<float[]> Attentions) Run(TokenBatch batch)
    {
        int b = batch.Count, t = batch.Length;
        var dims = new[] { b, t };
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(Flatten(batch.InputIds), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Flatten(batch.AttentionMask), dims)),
        };
        if (_hasTokenTypes)
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(Flatten(batch.TokenTypeIds), dims)));
        var names = new List<string> { "last_hidden_state" };
        names.AddRange(AttentionOutputs);
        using var results = _session.Run(inputs, names);
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>();
        var attentions = AttentionOutputs.Select(n => results.First(r => r.Name == n).AsTensor<float>().ToArray()).ToList();
        return (hidden.ToArray(), hidden.Dimensions.ToArray(), attentions);
    }

    /// <summary>Runs a batch for timing only: all outputs are computed and dropped.</summary>
    public void RunDiscard(TokenBatch batch) => Run(batch);

    /// <summary>
    /// Sentence embeddings of <paramref name="texts"/> computed by ONNX Runtime (the exported graph
    /// outputs last_hidden_state; pooling and normalisation follow the encoder's sentence-transformers
    /// settings), in order, in length-sorted batches like <see cref="SentenceEncoder.Embed"/>.
    /// </summary>
    public float[][] Embed(IReadOnlyList<string> texts, BertTextTokenizer tokenizer, Pooling pooling, bool normalize, int batchSize = 32)
    {
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var idx = order.Skip(start).Take(batchSize).ToArray();
            var batch = tokenizer.EncodeBatch(idx.Select(i => texts[i]).ToList());
            var (hidden, shape, _) = Run(batch);
            var hiddenTensor = TorchSharp.torch.tensor(hidden, shape.Select(d => (long)d).ToArray());
            var mask = TorchSharp.torch.tensor(Flatten(batch.AttentionMask), [batch.Count, batch.Length]);
            var pooled = SentencePooling.Pool(hiddenTensor, mask, pooling, normalize).contiguous().data<float>().ToArray();
            int h = shape[2];
            for (int j = 0; j < idx.Length; j++) result[idx[j]] = pooled.AsSpan(j * h, h).ToArray();
        }
        return result;
    }

    static long[] Flatten(long[,] a)
    {
        var flat = new long[a.Length];
        Buffer.BlockCopy(a, 0, flat, 0, a.Length * sizeof(long));
        return flat;
    }

    public void Dispose() => _session.Dispose();
}
