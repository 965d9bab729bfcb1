using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;
namespace DistillSharp.Serving.Backends;

/// <summary>
/// <see cref="IEmbeddingBackend"/> over <see cref="Int8Encoder"/>: sequences are packed without
/// padding (cost = real tokens), and the pooled vectors are taken from the last hidden state before
/// normalisation (the server normalises with the runtime's arithmetic, so vectors equal
/// <see cref="Int8Encoder.Embed"/>'s).
/// </summary>
public sealed class Int8EmbeddingBackend(Int8Encoder encoder) : IEmbeddingBackend
{
    /// <summary>The runtime.</summary>
    public Int8Encoder Encoder { get; } = encoder ?? throw new ArgumentNullException(nameof(encoder));
    /// <inheritdoc/>
    public string Runtime => "int8";
    /// <inheritdoc/>
    public int Dimensions => Encoder.Config.HiddenSize;
    /// <inheritdoc/>
    public bool Normalizes => Encoder.Weights.Normalize;
    /// <inheritdoc/>
    public bool PadsBatches => false;

    /// <summary>The WordPiece tokenizer of the model.</summary>
    public ITextTokenizer Tokenizer() => new BertTokenizerAdapter(Encoder.Tokenizer, Encoder.Config.VocabSize);

    /// <inheritdoc/>
    public float[][] Embed(IReadOnlyList<int[]> sequences)
    {
        var batch = TokenBatches.Padded(sequences);
        var output = Encoder.Forward(batch);
        return VectorMath.Pool(output.LastHiddenState.Span, output.Length, output.Hidden, sequences.Select(s => s.Length).ToList(), Encoder.Weights.Pooling);
    }

    /// <inheritdoc/>
    public void Dispose() => Encoder.Dispose();
}
