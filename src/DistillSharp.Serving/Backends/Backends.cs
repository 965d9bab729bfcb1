namespace DistillSharp.Serving.Backends;

/// <summary>
/// Text → the model's token ids, for an encoder (embeddings, classification). Ids include the
/// special tokens the model expects ([CLS] … [SEP] for BERT); nothing is truncated, so the server can
/// tell a too-long input (413) from one it may cut (<c>truncate: true</c>).
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Longest sequence the model accepts, special tokens included.</summary>
    int MaxTokens { get; }
    /// <summary>Ids are in [0, VocabSize).</summary>
    int VocabSize { get; }
    /// <summary>The ids of <paramref name="text"/> with special tokens, not truncated.</summary>
    int[] Encode(string text);
    /// <summary>
    /// <paramref name="ids"/> (from <see cref="Encode"/>) cut to <paramref name="maxTokens"/> the way
    /// the model's own tokenizer truncates (BERT: keep [CLS] and the first text tokens, end with [SEP]).
    /// </summary>
    int[] Truncate(int[] ids, int maxTokens);
}

/// <summary>
/// A sentence encoder that runs a batch of token-id sequences and returns one pooled vector per
/// sequence, before L2 normalisation (the server normalises when the model or the request asks).
/// Called from one thread at a time (the batching queue owns it).
/// </summary>
public interface IEmbeddingBackend : IDisposable
{
    /// <summary>Runtime name (int8, onnx, onnx-int8, torch, …), for /health and metrics.</summary>
    string Runtime { get; }
    /// <summary>Length of each vector.</summary>
    int Dimensions { get; }
    /// <summary>Whether the model's embeddings are L2-normalised (sentence-transformers' Normalize module).</summary>
    bool Normalizes { get; }
    /// <summary>True when a batch costs count × longest tokens (padded), false when it costs the sum of lengths (packed).</summary>
    bool PadsBatches { get; }
    /// <summary>Pooled, un-normalised vectors of <paramref name="sequences"/>, in order.</summary>
    float[][] Embed(IReadOnlyList<int[]> sequences);
}

/// <summary>
/// A sequence classifier: logits per sequence and the label of each logit (Hugging Face's
/// id2label). Called from one thread at a time.
/// </summary>
public interface IClassifierBackend : IDisposable
{
    /// <summary>Runtime name.</summary>
    string Runtime { get; }
    /// <summary>Label of logit i.</summary>
    IReadOnlyList<string> Labels { get; }
    /// <summary>See <see cref="IEmbeddingBackend.PadsBatches"/>.</summary>
    bool PadsBatches { get; }
    /// <summary>Logits of <paramref name="sequences"/>, in order, one per label.</summary>
    float[][] Logits(IReadOnlyList<int[]> sequences);
}
