using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Serving.Backends;
using static TorchSharp.torch;

namespace DistillSharp.Cli.Serving;

/// <summary>
/// <c>--runtime torch</c>: a TorchSharp fp32 <see cref="SentenceEncoder"/> (built-in teacher, HF
/// folder, ONNX import or run folder) behind the serving interface. Batches are padded.
/// </summary>
public sealed class TorchEmbeddingBackend(SentenceEncoder encoder) : IEmbeddingBackend
{
    /// <summary>The model.</summary>
    public SentenceEncoder Encoder { get; } = encoder ?? throw new ArgumentNullException(nameof(encoder));
    /// <inheritdoc/>
    public string Runtime => "torch";
    /// <inheritdoc/>
    public int Dimensions => Encoder.Model.Config.HiddenSize;
    /// <inheritdoc/>
    public bool Normalizes => Encoder.Normalize;
    /// <inheritdoc/>
    public bool PadsBatches => true;

    /// <inheritdoc/>
    public float[][] Embed(IReadOnlyList<int[]> sequences)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (ids, mask, types) = TokenBatches.Padded(sequences).ToTensors();
        var hidden = Encoder.Model.Forward(ids, mask, types).LastHiddenState;
        var pooled = SentencePooling.Pool(hidden, mask, Encoder.Pooling, normalize: false).contiguous();   // (B, H)
        var flat = pooled.data<float>().ToArray();
        int h = (int)pooled.shape[1];
        return Enumerable.Range(0, sequences.Count).Select(i => flat.AsSpan(i * h, h).ToArray()).ToArray();
    }

    /// <inheritdoc/>
    public void Dispose() => Encoder.Dispose();
}
