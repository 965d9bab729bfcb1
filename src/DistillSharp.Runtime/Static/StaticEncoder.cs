using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Runtime.Static;

/// <summary>
/// A static (Model2Vec-style) sentence encoder: one vector per vocabulary token in an int8 table
/// (one scale per row), and a sentence embedding = the mean of its tokens' rows, L2-normalised.
/// Inference needs only the WordPiece tokenizer and a table lookup: no attention, no matrix
/// product. Special tokens ([CLS], [SEP], [PAD], [UNK], [MASK]) and the unused <c>[unusedN]</c>
/// slots of BERT vocabularies are skipped when pooling; a text with no other token embeds as zeros.
/// Thread-safe: <see cref="Embed"/> and <see cref="Pool"/> keep no state between calls.
/// </summary>
public sealed partial class StaticEncoder
{
    readonly bool[] _skip;

    /// <summary>Builds the encoder; the table must have one row per vocabulary token.</summary>
    public StaticEncoder(BertTextTokenizer tokenizer, Int8EmbeddingTable table, bool normalize = true, string source = "static")
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(table);
        Tokenizer = tokenizer;
        Table = table.Validate($"{source}: static embedding table", tokenizer.VocabSize, table.Cols);
        Normalize = normalize;
        Source = source;
        _skip = SkippedTokens(tokenizer.VocabText, tokenizer.VocabSize);
    }

    /// <summary>The tokenizer (its max length caps the tokens per text).</summary>
    public BertTextTokenizer Tokenizer { get; }
    /// <summary>[vocab, dims] int8 rows with per-row scales.</summary>
    public Int8EmbeddingTable Table { get; }
    /// <summary>Whether embeddings are L2-normalised.</summary>
    public bool Normalize { get; }
    /// <summary>Where it came from (messages, reports).</summary>
    public string Source { get; }
    /// <summary>Embedding width.</summary>
    public int Dimensions => Table.Cols;

    /// <summary>Whether token id <paramref name="id"/> is left out of the mean (special and unused tokens).</summary>
    public bool IsSkipped(int id) => _skip[id];

    /// <summary>One embedding per text, in order.</summary>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            var ids = Tokenizer.Encode(texts[i]);
            result[i] = new float[Dimensions];
            Pool(ids is List<int> list ? CollectionsMarshal.AsSpan(list) : ids.ToArray(), result[i]);
        }
        return result;
    }

    /// <summary>
    /// Mean of the rows of <paramref name="ids"/> (skipped tokens left out) into <paramref name="output"/>,
    /// L2-normalised when <see cref="Normalize"/>; all zeros when no token counts.
    /// </summary>
    public void Pool(ReadOnlySpan<int> ids, Span<float> output)
    {
        int dims = Dimensions;
        if (output.Length != dims) throw new ArgumentException($"output has {output.Length} values, the table {dims} columns");
        output.Clear();
        int count = 0;
        var values = Table.Values;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_skip.Length) throw new DistillSharpException($"{Source}: token id {id} is outside the vocabulary of {_skip.Length}");
            if (_skip[id]) continue;
            float scale = Table.Scales[id];
            var row = values.AsSpan(id * dims, dims);
            for (int j = 0; j < dims; j++) output[j] += row[j] * scale;
            count++;
        }
        if (count == 0) return;
        double norm = 0;
        for (int j = 0; j < dims; j++) norm += (double)output[j] * output[j];
        float factor = Normalize ? (norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0) : 1f / count;
        for (int j = 0; j < dims; j++) output[j] *= factor;
    }

    /// <summary>Pools every row of a token batch (padding is [PAD], skipped); for benchmarks, which time token batches.</summary>
    public Action<TokenBatch> Runner()
    {
        float[] output = new float[Dimensions];
        int[] ids = [];
        return batch =>
        {
            if (ids.Length < batch.Length) ids = new int[batch.Length];
            for (int b = 0; b < batch.Count; b++)
            {
                for (int t = 0; t < batch.Length; t++) ids[t] = (int)batch.InputIds[b, t];
                Pool(ids.AsSpan(0, batch.Length), output);
            }
        };
    }

    /// <summary>Per id: true for [CLS], [SEP], [PAD], [UNK], [MASK] and [unusedN].</summary>
    public static bool[] SkippedTokens(string vocabText, int vocabSize)
    {
        var skip = new bool[vocabSize];
        string[] lines = vocabText.Split('\n');
        for (int i = 0; i < Math.Min(vocabSize, lines.Length); i++)
        {
            string token = lines[i].TrimEnd('\r');
            skip[i] = token is "[CLS]" or "[SEP]" or "[PAD]" or "[UNK]" or "[MASK]" || UnusedToken().IsMatch(token);
        }
        return skip;
    }

    [GeneratedRegex(@"^\[unused\d+\]$")]
    private static partial Regex UnusedToken();
}
