using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Models.Checkpoints;

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
    readonly int _hidden;

    /// <summary>Rows of the graph's word embedding initializer (the largest token id + 1 it takes), when it has a named one.</summary>
    public long? EmbeddingRows { get; }

    /// <summary>Names of the Softmax outputs in graph order (one per layer), when exposed.</summary>
    public IReadOnlyList<string> AttentionOutputs { get; }

    /// <summary>
    /// Creates a session; <paramref name="threads"/> sets intra-op threads (0 = ORT default).
    /// <paramref name="optimize"/> lets ORT fuse the graph (for speed); without it ORT evaluates the
    /// graph node by node, which is the plainest reference for numerical comparisons.
    /// </summary>
    public OnnxRuntimeEncoder(byte[] onnx, bool exposeAttentions = false, int threads = 0, bool optimize = true)
        : this(OnnxModelFile.Parse(onnx, "ONNX model"), onnx, null, "ONNX model", exposeAttentions, threads, optimize)
    {
    }

    /// <summary>
    /// A session built from the file at <paramref name="path"/>, so that ONNX Runtime finds weights kept
    /// as external data beside it (every model over 2 GB); their locations are checked to stay inside
    /// the model's folder first (<see cref="OnnxModelFile"/>).
    /// </summary>
    public OnnxRuntimeEncoder(string path, int threads = 0, bool optimize = true)
        : this(OnnxModelFile.Read(path), null, path, path, exposeAttentions: false, threads, optimize)
    {
    }

    OnnxRuntimeEncoder(ModelProto model, byte[]? onnx, string? path, string source, bool exposeAttentions, int threads, bool optimize)
    {
        foreach (string input in new[] { "input_ids", "attention_mask" })
            if (!model.Graph.Input.Any(i => i.Name == input))
                throw new DistillSharpException($"{source}: not a sentence encoder graph: inputs are {string.Join(", ", model.Graph.Input.Select(i => i.Name))}, expected input_ids and attention_mask");
        if (!model.Graph.Output.Any(o => o.Name == "last_hidden_state"))
            throw new DistillSharpException($"{source}: not a sentence encoder graph: outputs are {string.Join(", ", model.Graph.Output.Select(o => o.Name))}, expected last_hidden_state");
        var word = model.Graph.Initializer.FirstOrDefault(t => t.Name.EndsWith("embeddings.word_embeddings.weight", StringComparison.Ordinal) && t.Dims.Count == 2);
        EmbeddingRows = word?.Dims[0];
        _hidden = (int)Math.Clamp(word?.Dims[1] ?? 1024, 1, BertConfig.MaxHidden);
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
            path = null;
        }
        AttentionOutputs = exposeAttentions ? softmax : [];
        _hasTokenTypes = model.Graph.Input.Any(i => i.Name == "token_type_ids");
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        if (threads > 0) options.IntraOpNumThreads = threads;
        try
        {
            _session = path is not null ? new InferenceSession(path, options) : new InferenceSession(onnx ?? model.ToByteArray(), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new DistillSharpException($"{source}: ONNX Runtime cannot load it ({e.Message.Split('\n')[0].Trim()})");
        }
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

    /// <summary>
    /// Memory one pass over (batch, seq) needs at most, estimated from the graph's width (read from its
    /// word embedding; heads taken as width / 32, more than any BERT-family encoder has).
    /// </summary>
    public long InferenceBytes(int batch, int seq) => new BertConfig
    {
        HiddenSize = _hidden, NumAttentionHeads = Math.Max(1, _hidden / 32), IntermediateSize = 4 * _hidden,
    }.InferenceBytes(batch, seq);

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
