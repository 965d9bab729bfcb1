using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Serving.Backends;

/// <summary>
/// A BERT-family encoder exported to ONNX (fp32 or our INT8 export) run by ONNX Runtime: the
/// batch is padded to its longest sequence (<c>input_ids</c>, <c>attention_mask</c> and, when the
/// graph has it, <c>token_type_ids</c>), <c>last_hidden_state</c> is pooled here.
/// </summary>
public sealed class OnnxEmbeddingBackend : IEmbeddingBackend
{
    readonly InferenceSession _session;
    readonly bool _hasTokenTypes;
    readonly Pooling _pooling;
    readonly long _padId;

    /// <summary>
    /// Opens <paramref name="onnx"/> with <paramref name="threads"/> intra-op threads; the model's
    /// embeddings are pooled by <paramref name="pooling"/> and (by the server) normalised when <paramref name="normalizes"/>.
    /// </summary>
    public OnnxEmbeddingBackend(byte[] onnx, string runtime, Pooling pooling, bool normalizes, int threads, int padId = 0)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be >= 1");
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
        };
        _session = new InferenceSession(onnx, options);
        foreach (string name in new[] { "input_ids", "attention_mask" })
            if (!_session.InputMetadata.ContainsKey(name))
                throw new ArgumentException($"the ONNX graph has no input '{name}' (inputs: {string.Join(", ", _session.InputMetadata.Keys)})", nameof(onnx));
        if (!_session.OutputMetadata.TryGetValue("last_hidden_state", out var output))
            throw new ArgumentException($"the ONNX graph has no output 'last_hidden_state' (outputs: {string.Join(", ", _session.OutputMetadata.Keys)})", nameof(onnx));
        _hasTokenTypes = _session.InputMetadata.ContainsKey("token_type_ids");
        Dimensions = output.Dimensions is [.., > 0 and var h] ? h : 0;
        Runtime = runtime;
        _pooling = pooling;
        Normalizes = normalizes;
        _padId = padId;
    }

    /// <inheritdoc/>
    public string Runtime { get; }
    /// <inheritdoc/>
    public int Dimensions { get; private set; }
    /// <inheritdoc/>
    public bool Normalizes { get; }
    /// <inheritdoc/>
    public bool PadsBatches => true;

    /// <inheritdoc/>
    public float[][] Embed(IReadOnlyList<int[]> sequences)
    {
        int b = sequences.Count, t = sequences.Max(s => s.Length);
        var ids = new long[b * t];
        var mask = new long[b * t];
        Array.Fill(ids, _padId);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < sequences[i].Length; j++)
            {
                ids[i * t + j] = sequences[i][j];
                mask[i * t + j] = 1;
            }
        int[] dims = [b, t];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
        };
        if (_hasTokenTypes) inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * t], dims)));
        using var results = _session.Run(inputs, ["last_hidden_state"]);
        var hidden = results[0].AsTensor<float>();
        int h = hidden.Dimensions[2];
        Dimensions = h;
        var flat = hidden is DenseTensor<float> dense ? dense.Buffer.Span : hidden.ToArray();
        return VectorMath.Pool(flat, t, h, sequences.Select(s => s.Length).ToList(), _pooling);
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();
}
