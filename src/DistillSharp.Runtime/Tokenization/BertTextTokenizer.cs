using Microsoft.ML.Tokenizers;

namespace DistillSharp.Runtime.Tokenization;

/// <summary>A tokenized batch, padded to its longest sequence: (B, T) int64 ids, mask and token types.</summary>
public sealed record TokenBatch(long[,] InputIds, long[,] AttentionMask, long[,] TokenTypeIds)
{
    /// <summary>Batch size.</summary>
    public int Count => InputIds.GetLength(0);
    /// <summary>Padded length T.</summary>
    public int Length => InputIds.GetLength(1);
    /// <summary>Number of real (non-padding) tokens.</summary>
    public long RealTokens => AttentionMask.Cast<long>().Sum();
}

/// <summary>
/// WordPiece tokenization as Hugging Face's BertTokenizer does it (Microsoft.ML.Tokenizers'
/// BertTokenizer underneath): optional lower-casing with accent stripping, CJK splitting,
/// [CLS] … [SEP], truncation of the text tokens to max length − 2, right padding with [PAD].
/// </summary>
public sealed class BertTextTokenizer
{
    readonly BertTokenizer _tokenizer;

    /// <summary>The vocabulary text (one token per line) this tokenizer was made from.</summary>
    public string VocabText { get; }

    /// <summary>Whether text is lower-cased (and accents stripped) first.</summary>
    public bool LowerCase { get; }

    /// <summary>Longest sequence, special tokens included.</summary>
    public int MaxLength { get; }

    /// <summary>Vocabulary size.</summary>
    public int VocabSize { get; }

    /// <summary>Longest max length a tokenizer accepts.</summary>
    public const int MaxSupportedLength = 65536;

    /// <summary>
    /// Throws when this tokenizer can produce token ids or sequence lengths that a model with
    /// <paramref name="vocabRows"/> word embeddings and <paramref name="positions"/> position embeddings
    /// does not have (they would index outside its tables in a forward pass).
    /// </summary>
    public void CheckFits(int vocabRows, int positions, string source)
    {
        if (VocabSize > vocabRows)
            throw new DistillSharpException(
                $"{source}: vocab.txt has {VocabSize:N0} tokens but the embedding table only {vocabRows:N0} rows (vocab_size); vocab.txt and the model do not belong together");
        if (MaxLength > positions)
            throw new DistillSharpException($"{source}: max length {MaxLength} exceeds max_position_embeddings {positions} of the model");
    }

    public BertTextTokenizer(string vocabText, bool lowerCase, int maxLength, string source = "vocab.txt")
    {
        if (maxLength is < 3 or > MaxSupportedLength)
            throw new DistillSharpException($"{source}: max length {maxLength} must be in [3, {MaxSupportedLength}] (room for [CLS] and [SEP])");
        string[] lines = vocabText.Split('\n');
        foreach (string special in new[] { "[CLS]", "[SEP]", "[PAD]", "[UNK]" })
            if (!lines.Any(l => l.TrimEnd('\r') == special))
                throw new DistillSharpException($"{source}: vocabulary lacks the special token {special}; is this a BERT WordPiece vocab.txt?");
        VocabText = vocabText;
        LowerCase = lowerCase;
        MaxLength = maxLength;
        VocabSize = lines.Count(l => l.Length > 0);
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(vocabText));
        _tokenizer = BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            RemoveNonSpacingMarks = lowerCase, // HF strips accents whenever it lower-cases
            IndividuallyTokenizeCjk = true,
            ApplyBasicTokenization = true,
        });
    }

    /// <summary>The ids of one text with [CLS]/[SEP], truncated to <see cref="MaxLength"/>.</summary>
    public IReadOnlyList<int> Encode(string text) => Encode(text, MaxLength - 2);

    /// <summary>The ids of one text with [CLS]/[SEP], not truncated (a server decides itself what is too long).</summary>
    public IReadOnlyList<int> EncodeUntruncated(string text) => Encode(text, int.MaxValue);

    IReadOnlyList<int> Encode(string text, int maxTextTokens)
    {
        var ids = _tokenizer.EncodeToIds(text, addSpecialTokens: false);
        int keep = Math.Min(ids.Count, maxTextTokens);
        var result = new List<int>(keep + 2) { _tokenizer.ClassificationTokenId };
        for (int i = 0; i < keep; i++) result.Add(ids[i]);
        result.Add(_tokenizer.SeparatorTokenId);
        return result;
    }

    /// <summary>Tokens of <paramref name="text"/> with [CLS] and [SEP], before truncation: more than <see cref="MaxLength"/> means <see cref="Encode(string)"/> cuts it.</summary>
    public int TokenCount(string text) => _tokenizer.EncodeToIds(text, addSpecialTokens: false).Count + 2;

    /// <summary>Token strings of one text (for inspection).</summary>
    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids) ?? "";

    /// <summary>Tokenizes a batch and pads it to its longest member.</summary>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) throw new ArgumentException("cannot tokenize an empty batch", nameof(texts));
        var encoded = texts.Select(t => Encode(t)).ToList();
        int length = encoded.Max(e => e.Count);
        var ids = new long[texts.Count, length];
        var mask = new long[texts.Count, length];
        for (int b = 0; b < texts.Count; b++)
        {
            for (int t = 0; t < length; t++)
            {
                bool real = t < encoded[b].Count;
                ids[b, t] = real ? encoded[b][t] : _tokenizer.PaddingTokenId;
                mask[b, t] = real ? 1 : 0;
            }
        }
        return new TokenBatch(ids, mask, new long[texts.Count, length]);
    }
}
