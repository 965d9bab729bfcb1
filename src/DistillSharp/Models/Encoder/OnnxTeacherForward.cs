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
/// <c>attentions.i</c>, <c>queries.i</c>, <c>keys.i</c>, <c>values.i</c> for each layer i). ONNX Runtime
/// writes the outputs straight into TorchSharp tensors allocated for the batch (no copy), and the
/// pooled embedding is computed from the last hidden state as <see cref="SentenceEncoder"/> does.
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

    /// <summary>Output <paramref name="kind"/> of layer (or hidden-state index) <paramref name="layer"/>.</summary>
    public static string OutputName(string kind, int layer) => $"{kind}.{layer}";

    /// <summary>A session over <paramref name="onnx"/> (an export with distillation outputs) with <paramref name="threads"/> intra-op threads.</summary>
    public OnnxTeacherForward(byte[] onnx, BertConfig config, Pooling pooling, bool normalize, int threads)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
        _session = new InferenceSession(onnx, options);
        string missing = OutputName(HiddenState, config.NumHiddenLayers);
        if (!_session.OutputMetadata.ContainsKey(missing))
            throw new DistillSharpException($"the teacher's ONNX graph has no output '{missing}'; export it with OnnxExportOptions.DistillationOutputs");
        _config = config;
        _pooling = pooling;
        _normalize = normalize;
        _inputNames = _session.InputMetadata.Keys.ToArray();
    }

    /// <inheritdoc/>
    public string Engine => "onnxruntime";

    /// <inheritdoc/>
    public unsafe ModelOutput Forward(TokenBatch batch, bool withQkv)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var c = _config;
        int b = batch.Count, t = batch.Length, layers = c.NumHiddenLayers, heads = c.NumAttentionHeads;
        var flat = _inputNames.Select(name => Flatten(name switch
        {
            "input_ids" => batch.InputIds, "attention_mask" => batch.AttentionMask, "token_type_ids" => batch.TokenTypeIds,
            _ => throw new DistillSharpException($"unexpected teacher ONNX input '{name}'"),
        })).ToArray();
        var hidden = Enumerable.Range(0, layers + 1).Select(_ => empty(b, t, c.HiddenSize)).ToList();        // (B, T, H)
        var attentions = Enumerable.Range(0, layers).Select(_ => empty(b, heads, t, t)).ToList();          // (B, h, T, T)
        List<Tensor>? Heads() => withQkv ? Enumerable.Range(0, layers).Select(_ => empty(b, heads, t, c.HeadDim)).ToList() : null;
        var (queries, keys, values) = (Heads(), Heads(), Heads());

        var names = new List<string>();
        var tensors = new List<Tensor>();
        void Want(string kind, IReadOnlyList<Tensor>? list)
        {
            if (list is null) return;
            for (int i = 0; i < list.Count; i++) { names.Add(OutputName(kind, i)); tensors.Add(list[i]); }
        }
        Want(HiddenState, hidden); Want(Attention, attentions); Want(Query, queries); Want(Key, keys); Want(Value, values);
        var inputs = flat.Select(a => OrtValue.CreateTensorValueFromMemory(a, [b, t])).ToArray();
        var outputs = tensors.Select(Bind).ToArray();
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
