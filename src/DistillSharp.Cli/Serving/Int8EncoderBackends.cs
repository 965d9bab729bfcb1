// Adapters from the INT8 encoder runtime to the serving interfaces. They live on the CLI side only
// until DistillSharp.Runtime (libtorch-free) is its own assembly; then they move to DistillSharp.Serving.
using DistillSharp.Models;
using DistillSharp.Models.Tokenization;
using DistillSharp.Runtime;
using DistillSharp.Serving.Backends;

namespace DistillSharp.Cli.Serving;

/// <summary>
/// <see cref="ITextTokenizer"/> over a WordPiece <see cref="BertTextTokenizer"/>: encodes without
/// truncation (a copy of the tokenizer with an unbounded length) and truncates as BERT does.
/// </summary>
public sealed class BertTokenizerAdapter : ITextTokenizer
{
    readonly BertTextTokenizer _full;

    /// <summary>Wraps <paramref name="tokenizer"/>; its maximum length is the model's.</summary>
    public BertTokenizerAdapter(BertTextTokenizer tokenizer, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _full = new BertTextTokenizer(tokenizer.VocabText, tokenizer.LowerCase, int.MaxValue / 2);
        MaxTokens = tokenizer.MaxLength;
        VocabSize = vocabSize;
    }

    /// <inheritdoc/>
    public int MaxTokens { get; }
    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public int[] Encode(string text) => [.. _full.Encode(text)];

    /// <inheritdoc/>
    public int[] Truncate(int[] ids, int maxTokens)
    {
        if (ids.Length <= maxTokens) return ids;
        var cut = ids[..maxTokens];
        cut[^1] = ids[^1];   // [CLS] + first text tokens + [SEP], as BertTextTokenizer truncates
        return cut;
    }
}

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
        var batch = Batches.Padded(sequences);
        var output = Encoder.Forward(batch);
        return VectorMath.Pool(output.LastHiddenState.Span, output.Length, output.Hidden, sequences.Select(s => s.Length).ToList(),
            Encoder.Weights.Pooling == Pooling.Cls ? PoolingMode.Cls : PoolingMode.Mean);
    }

    /// <inheritdoc/>
    public void Dispose() => Encoder.Dispose();
}

/// <summary>Token-id sequences as a right-padded <see cref="TokenBatch"/>.</summary>
public static class Batches
{
    /// <summary>(B, longest) ids, mask 1 on real tokens, token types 0; padding id 0.</summary>
    public static TokenBatch Padded(IReadOnlyList<int[]> sequences)
    {
        int b = sequences.Count, t = sequences.Max(s => s.Length);
        var ids = new long[b, t];
        var mask = new long[b, t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < sequences[i].Length; j++)
            {
                ids[i, j] = sequences[i][j];
                mask[i, j] = 1;
            }
        return new TokenBatch(ids, mask, new long[b, t]);
    }
}
