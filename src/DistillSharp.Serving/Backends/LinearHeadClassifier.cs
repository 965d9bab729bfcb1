namespace DistillSharp.Serving.Backends;

/// <summary>
/// A classifier made of a sentence encoder and a linear head over its (normalised, when the
/// encoder normalises) embeddings: logits = W·e + b, one row of W per label — a logistic-regression
/// probe such as the spam-f1 evaluation fits, served through <c>/predict</c>. The encoder is shared
/// with the caller (not disposed here).
/// </summary>
public sealed class LinearHeadClassifier : IClassifierBackend
{
    readonly IEmbeddingBackend _encoder;
    readonly float[][] _weights;
    readonly float[] _bias;

    /// <summary>Labels <paramref name="labels"/>[i] has weights <paramref name="weights"/>[i] (length = the encoder's dimensions) and bias <paramref name="bias"/>[i].</summary>
    public LinearHeadClassifier(IEmbeddingBackend encoder, IReadOnlyList<string> labels, float[][] weights, float[] bias)
    {
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count < 2) throw new ArgumentException($"a classifier needs at least 2 labels, got {labels.Count}", nameof(labels));
        if (weights.Length != labels.Count || bias.Length != labels.Count)
            throw new ArgumentException($"{labels.Count} labels need as many weight rows and biases, got {weights.Length} and {bias.Length}");
        for (int i = 0; i < weights.Length; i++)
            if (weights[i].Length != encoder.Dimensions)
                throw new ArgumentException($"weight row {i} ('{labels[i]}') has {weights[i].Length} values; the encoder has {encoder.Dimensions} dimensions", nameof(weights));
        Labels = labels;
        _weights = weights;
        _bias = bias;
    }

    /// <inheritdoc/>
    public string Runtime => _encoder.Runtime;
    /// <inheritdoc/>
    public IReadOnlyList<string> Labels { get; }
    /// <inheritdoc/>
    public bool PadsBatches => _encoder.PadsBatches;

    /// <inheritdoc/>
    public float[][] Logits(IReadOnlyList<int[]> sequences)
    {
        var embeddings = _encoder.Embed(sequences);
        return embeddings.Select(e =>
        {
            if (_encoder.Normalizes) VectorMath.Normalize(e);
            var logits = new float[_weights.Length];
            for (int c = 0; c < logits.Length; c++)
            {
                double z = _bias[c];
                for (int j = 0; j < e.Length; j++) z += (double)_weights[c][j] * e[j];
                logits[c] = (float)z;
            }
            return logits;
        }).ToArray();
    }

    /// <summary>Nothing to release: the encoder belongs to the caller.</summary>
    public void Dispose() { }
}
