using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using DistillSharp.Models.Tokenization;

namespace DistillSharp.Models;

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

    static long[] Flatten(long[,] a)
    {
        var flat = new long[a.Length];
        Buffer.BlockCopy(a, 0, flat, 0, a.Length * sizeof(long));
        return flat;
    }

    public void Dispose() => _session.Dispose();
}
