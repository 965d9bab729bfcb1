using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Serving.Backends;

/// <summary>
/// <see cref="ITextTokenizer"/> over a WordPiece <see cref="BertTextTokenizer"/>: encodes without
/// truncation and truncates as BERT does.
/// </summary>
public sealed class BertTokenizerAdapter : ITextTokenizer
{
    readonly BertTextTokenizer _full;

    /// <summary>Wraps <paramref name="tokenizer"/>; its maximum length is the model's.</summary>
    public BertTokenizerAdapter(BertTextTokenizer tokenizer, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _full = tokenizer;
        MaxTokens = tokenizer.MaxLength;
        VocabSize = vocabSize;
    }

    /// <inheritdoc/>
    public int MaxTokens { get; }
    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public int[] Encode(string text) => [.. _full.EncodeUntruncated(text)];

    /// <inheritdoc/>
    public int[] Truncate(int[] ids, int maxTokens)
    {
        if (ids.Length <= maxTokens) return ids;
        var cut = ids[..maxTokens];
        cut[^1] = ids[^1];   // [CLS] + first text tokens + [SEP], as BertTextTokenizer truncates
        return cut;
    }
}
