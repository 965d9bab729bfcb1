using Microsoft.ML.OnnxRuntime;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Bench;

/// <summary>
/// ONNX Runtime at its lowest per-call overhead, for a fair speed comparison: inputs and the
/// last_hidden_state output are OrtValues over arrays allocated once per batch shape, so a call is
/// <c>session.Run</c> and nothing else (the toolkit's <c>OnnxRuntimeEncoder</c> builds NamedOnnxValues
/// and copies the output each call).
/// </summary>
sealed class OrtSession : IDisposable
{
    readonly InferenceSession _session;
    readonly RunOptions _run = new();
    readonly string[] _inputNames;
    readonly Dictionary<(int, int), (OrtValue[] Inputs, OrtValue[] Outputs)> _bound = [];

    public OrtSession(byte[] onnx, int threads, bool spin = true)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
        if (!spin) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _session = new InferenceSession(onnx, options);
        _inputNames = _session.InputMetadata.Keys.ToArray();
        Hidden = _session.OutputMetadata.Keys.Contains("last_hidden_state") ? "last_hidden_state" : _session.OutputMetadata.Keys.First();
    }

    public string Hidden { get; }

    public void Run(TokenBatch batch)
    {
        int b = batch.Count, t = batch.Length;
        if (!_bound.TryGetValue((b, t), out var io))
        {
            var inputs = _inputNames.Select(name =>
            {
                var src = name switch
                {
                    "input_ids" => batch.InputIds, "attention_mask" => batch.AttentionMask, "token_type_ids" => batch.TokenTypeIds,
                    _ => throw new InvalidOperationException($"unexpected ONNX input {name}"),
                };
                var flat = new long[b * t];
                Buffer.BlockCopy(src, 0, flat, 0, flat.Length * sizeof(long));
                return OrtValue.CreateTensorValueFromMemory(flat, [b, t]);
            }).ToArray();
            int h = (int)_session.OutputMetadata[Hidden].Dimensions[^1];
            var outputs = new[] { OrtValue.CreateTensorValueFromMemory(new float[b * t * h], [b, t, h]) };
            _bound[(b, t)] = io = (inputs, outputs);
        }
        _session.Run(_run, _inputNames, io.Inputs, [Hidden], io.Outputs);
    }

    public void Dispose()
    {
        foreach (var (inputs, outputs) in _bound.Values)
            foreach (var v in inputs.Concat(outputs)) v.Dispose();
        _run.Dispose();
        _session.Dispose();
    }
}
