using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using Google.Protobuf;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// The engines that compute a float model's embeddings for evaluation, one row each:
/// <c>onnxruntime-fp32</c> (ONNX Runtime on the model's fp32 export, built in memory on first use —
/// the same graph as the run's student.onnx) and <c>torchsharp-fp32</c> (the TorchSharp model in eval
/// mode). Both compute the same function (task metrics agree to 3 decimals, docs/BENCHMARKS.md
/// "Evaluation engines"); <see cref="Default"/> is the faster one measured side by side.
/// </summary>
public static class EvalEngines
{
    /// <summary>The engine runs evaluate with.</summary>
    public const string Default = "onnxruntime-fp32";

    /// <summary>Engine name → (encoder, threads) → embedder.</summary>
    public static readonly IReadOnlyDictionary<string, Func<SentenceEncoder, int, EvalEmbedder>> All =
        new Dictionary<string, Func<SentenceEncoder, int, EvalEmbedder>>(StringComparer.Ordinal)
        {
            ["onnxruntime-fp32"] = (encoder, threads) => new EvalEmbedder(() =>
            {
                var graph = OnnxExporter.BuildFp32(encoder.Model, new OnnxExportOptions(Pooling: encoder.Pooling, Normalize: encoder.Normalize));
                var ort = new OnnxRuntimeEncoder(graph.ToByteArray(), threads: threads);
                return (texts => ort.Embed(texts, encoder.Tokenizer, encoder.Pooling, encoder.Normalize), ort);
            }),
            ["torchsharp-fp32"] = (encoder, _) => new EvalEmbedder(() => (texts => encoder.Embed(texts), null)),
        };

    /// <summary>An embedder of <paramref name="encoder"/> on the named engine; an unknown name fails listing the known ones.</summary>
    public static EvalEmbedder Create(string engine, SentenceEncoder encoder, int threads) =>
        All.TryGetValue(engine, out var make) ? make(encoder, threads)
            : throw new DistillSharpException($"unknown evaluation engine '{engine}'; known: {string.Join(", ", All.Keys)}");
}

/// <summary>An embedding function built on its first call (a cached evaluation never builds it), disposed with its engine.</summary>
public sealed class EvalEmbedder(Func<(Func<IReadOnlyList<string>, float[][]> Embed, IDisposable? Owner)> build) : IDisposable
{
    (Func<IReadOnlyList<string>, float[][]> Embed, IDisposable? Owner)? _built;

    /// <summary>Whether the engine was built (some texts were embedded).</summary>
    public bool Built => _built is not null;

    /// <summary>Embeds <paramref name="texts"/>, building the engine first if needed.</summary>
    public float[][] Embed(IReadOnlyList<string> texts) => (_built ??= build()).Embed(texts);

    /// <inheritdoc/>
    public void Dispose() => _built?.Owner?.Dispose();
}
