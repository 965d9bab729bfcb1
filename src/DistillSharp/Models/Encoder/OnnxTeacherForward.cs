using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// The frozen teacher in ONNX Runtime: an fp32 export that also outputs what distillation reads
/// (<c>OnnxExportOptions.DistillationOutputs</c>: <c>hidden_states.i</c> for i = 0 … L,
/// <c>attentions.i</c>, <c>queries.i</c>, <c>keys.i</c>, <c>values.i</c> for each layer i) — exactly the
/// <see cref="TeacherOutputs"/> a stage needs, since every extra graph output costs ONNX Runtime fusions
/// and memory traffic. ONNX Runtime writes the outputs straight into TorchSharp tensors allocated for
/// the batch (no copy); layers nobody asked for are empty tensors; the pooled embedding is computed
/// from the last hidden state as <see cref="SentenceEncoder"/> does.
/// Matches the TorchSharp teacher within float rounding (tested; docs/BENCHMARKS.md "Teacher forward").
/// </summary>
public sealed class OnnxTeacherForward : ITeacherForward
{
    /// <summary>Output name prefixes.</summary>
    public const string HiddenState = "hidden_states", Attention = "attentions", Query = "queries", Key = "keys", Value = "values";

    readonly InferenceSession _session;
    readonly RunOptions _run = new();
    readonly BertConfig _config;
    readonly Pooling _pooling;
    readonly bool _normalize;
    readonly string[] _inputNames;

    /// <inheritdoc/>
    public TeacherOutputs Outputs { get; }

    /// <summary>Output <paramref name="kind"/> of layer (or hidden-state index) <paramref name="layer"/>.</summary>
    public static string OutputName(string kind, int layer) => $"{kind}.{layer}";

    /// <summary>
    /// A session over <paramref name="onnx"/> (an export with at least <paramref name="outputs"/> as
    /// distillation outputs, and the last hidden state) with <paramref name="threads"/> intra-op threads.
    /// </summary>
    public OnnxTeacherForward(byte[] onnx, BertConfig config, Pooling pooling, bool normalize, int threads, TeacherOutputs outputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
        _session = new InferenceSession(onnx, options);
        Outputs = outputs.Validate(config.NumHiddenLayers);
        foreach (string name in Names(outputs, config.NumHiddenLayers))
            if (!_session.OutputMetadata.ContainsKey(name))
                throw new DistillSharpException($"the teacher's ONNX graph has no output '{name}'; export it with OnnxExportOptions.DistillationOutputs");
        _config = config;
        _pooling = pooling;
        _normalize = normalize;
        _inputNames = _session.InputMetadata.Keys.ToArray();
    }

    /// <inheritdoc/>
    public string Engine => "onnxruntime";

    // The graph outputs a set of teacher outputs reads: the last hidden state first (for pooling).
    static IEnumerable<string> Names(TeacherOutputs o, int layers) =>
        new[] { OutputName(HiddenState, layers) }
            .Concat(o.HiddenStates.Where(i => i != layers).Select(i => OutputName(HiddenState, i)))
            .Concat(o.Attentions.Select(i => OutputName(Attention, i))).Concat(o.Queries.Select(i => OutputName(Query, i)))
            .Concat(o.Keys.Select(i => OutputName(Key, i))).Concat(o.Values.Select(i => OutputName(Value, i)));

    /// <inheritdoc/>
    public ModelOutput Forward(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var c = _config;
        int b = batch.Count, t = batch.Length, layers = c.NumHiddenLayers, heads = c.NumAttentionHeads;
        var o = Outputs;
        var flat = _inputNames.Select(name => Flatten(name switch
        {
            "input_ids" => batch.InputIds, "attention_mask" => batch.AttentionMask, "token_type_ids" => batch.TokenTypeIds,
            _ => throw new DistillSharpException($"unexpected teacher ONNX input '{name}'"),
        })).ToArray();
        var names = new List<string>();
        var bound = new List<Tensor>();
        // Wanted layers get a tensor of the batch's shape that ONNX Runtime fills; the others stay empty.
        List<Tensor> Layers(string kind, int count, IReadOnlySet<int> wanted, params long[] shape) =>
            Enumerable.Range(0, count).Select(i =>
            {
                if (!wanted.Contains(i)) return empty(0);
                var x = empty(shape);
                names.Add(OutputName(kind, i));
                bound.Add(x);
                return x;
            }).ToList();
        var hidden = Layers(HiddenState, layers + 1, new HashSet<int>(o.HiddenStates) { layers }, b, t, c.HiddenSize); // (B, T, H)
        var attentions = Layers(Attention, layers, o.Attentions, b, heads, t, t);                                   // (B, h, T, T)
        List<Tensor>? Heads(string kind, IReadOnlySet<int> wanted) => wanted.Count == 0 ? null : Layers(kind, layers, wanted, b, heads, t, c.HeadDim);
        var (queries, keys, values) = (Heads(Query, o.Queries), Heads(Key, o.Keys), Heads(Value, o.Values));
        var inputs = flat.Select(a => OrtValue.CreateTensorValueFromMemory(a, [b, t])).ToArray();
        var outputs = bound.Select(Bind).ToArray();
        try
        {
            _session.Run(_run, _inputNames, inputs, names, outputs);
        }
        finally
        {
            foreach (var v in inputs.Concat(outputs)) v.Dispose();
        }
        var mask = tensor(flat[Array.IndexOf(_inputNames, "attention_mask")], [b, t]);
        return new ModelOutput
        {
            HiddenStates = hidden, Attentions = attentions, Queries = queries, Keys = keys, Values = values,
            AttentionMask = mask,
            Pooled = SentencePooling.Pool(hidden[^1], mask, _pooling, _normalize),
        };
    }

    // An OrtValue over a CPU tensor's own storage, so ONNX Runtime writes the output in place.
    static unsafe OrtValue Bind(Tensor t)
    {
        var bytes = t.bytes;
        nint ptr = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, t.shape, ptr, bytes.Length);
    }

    static long[] Flatten(long[,] a)
    {
        var flat = new long[a.Length];
        Buffer.BlockCopy(a, 0, flat, 0, a.Length * sizeof(long));
        return flat;
    }

    /// <summary>Releases the session.</summary>
    public void Dispose()
    {
        _run.Dispose();
        _session.Dispose();
    }
}
