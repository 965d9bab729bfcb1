using DistillSharp.Serving.Backends;
using DistillSharp.Serving.Batching;
using DistillSharp.Serving.Http;
using DistillSharp.Serving.Metrics;

namespace DistillSharp.Serving;

/// <summary>Vectors of one request with the time it spent queued and in the model, and its token count.</summary>
public sealed record EncodeOutcome(float[][] Vectors, int Tokens, TimeSpan QueueTime, TimeSpan InferenceTime);

/// <summary>
/// An encoder model behind its batching queue: tokenization with the server's limits, embeddings
/// (pooled, then cut to <c>dimensions</c> and L2-normalised on request) and, for classifiers,
/// logits. The HTTP endpoints and the in-process <see cref="InProcess.RuntimeEmbeddingGenerator"/> share it.
/// </summary>
public sealed class EncoderService : IDisposable
{
    readonly RowBatcher? _embedQueue, _classifyQueue;
    readonly ServingMetrics _metrics;
    // The two queues' workers take turns on the model: a classifier head may share the embedding
    // backend, and our runtimes run one forward pass at a time.
    readonly object _model = new();

    /// <summary>
    /// Starts the queues of <paramref name="embedding"/> and/or <paramref name="classifier"/> (at least
    /// one) with <paramref name="batching"/>; <paramref name="maxInputs"/> caps the sequences per request.
    /// </summary>
    public EncoderService(string modelId, ITextTokenizer tokenizer, IEmbeddingBackend? embedding, IClassifierBackend? classifier,
        BatchingOptions batching, int maxInputs, ServingMetrics metrics)
    {
        if (embedding is null && classifier is null) throw new ArgumentException("an encoder service needs an embedding or a classifier backend");
        if (maxInputs < 1) throw new ArgumentOutOfRangeException(nameof(maxInputs), maxInputs, "max-inputs must be >= 1");
        ModelId = modelId;
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Embedding = embedding;
        Classifier = classifier;
        MaxInputs = maxInputs;
        _metrics = metrics;
        if (embedding is not null)
        {
            embedding.Embed([tokenizer.Encode("warm up")]);  // JIT, buffers, ONNX Runtime's first-run setup; sets Dimensions
            _embedQueue = new RowBatcher("embed", rows => { lock (_model) return embedding.Embed(rows); }, embedding.PadsBatches, batching, metrics);
        }
        if (classifier is not null)
        {
            classifier.Logits([tokenizer.Encode("warm up")]);
            _classifyQueue = new RowBatcher("predict", rows => { lock (_model) return classifier.Logits(rows); }, classifier.PadsBatches, batching, metrics);
        }
    }

    /// <summary>Model name reported in responses.</summary>
    public string ModelId { get; }
    /// <summary>The tokenizer.</summary>
    public ITextTokenizer Tokenizer { get; }
    /// <summary>The embedding model, if any.</summary>
    public IEmbeddingBackend? Embedding { get; }
    /// <summary>The classifier, if any.</summary>
    public IClassifierBackend? Classifier { get; }
    /// <summary>Most sequences per request.</summary>
    public int MaxInputs { get; }
    /// <summary>Sequences waiting in the queues.</summary>
    public int QueuedRows => (_embedQueue?.QueuedRows ?? 0) + (_classifyQueue?.QueuedRows ?? 0);

    /// <summary>
    /// Token ids of <paramref name="texts"/>; an input longer than the model's maximum is cut when
    /// <paramref name="truncate"/>, else it is a 413 naming the input.
    /// </summary>
    /// <param name="texts">The inputs.</param>
    /// <param name="truncate">Cut too-long inputs.</param>
    /// <param name="hint">How the caller can ask for truncation, for the 413 message.</param>
    public int[][] Tokenize(IReadOnlyList<string> texts, bool truncate, string hint = "send truncate: true to cut it")
    {
        CheckCount(texts.Count);
        var result = new int[texts.Count][];
        for (int i = 0; i < texts.Count; i++) result[i] = Fit(Tokenizer.Encode(texts[i]), i, truncate, hint);
        return result;
    }

    /// <summary>Checks token-id inputs (non-empty, in the vocabulary, not too long unless truncated; see <see cref="Tokenize"/>).</summary>
    public int[][] CheckIds(IReadOnlyList<int[]> sequences, bool truncate, string hint = "send truncate: true to cut it")
    {
        CheckCount(sequences.Count);
        var result = new int[sequences.Count][];
        for (int i = 0; i < sequences.Count; i++)
        {
            var ids = sequences[i];
            if (ids.Length == 0) throw ServingException.Invalid($"input {i} is an empty token list");
            foreach (int id in ids)
                if ((uint)id >= (uint)Tokenizer.VocabSize)
                    throw ServingException.Invalid($"input {i} holds token id {id}, outside the vocabulary [0, {Tokenizer.VocabSize})");
            result[i] = Fit(ids, i, truncate, hint);
        }
        return result;
    }

    void CheckCount(int count)
    {
        if (count == 0) throw ServingException.Invalid("no inputs given");
        if (count > MaxInputs) throw ServingException.Large($"{count} inputs in one request; the server takes at most {MaxInputs} (--max-inputs)");
    }

    int[] Fit(int[] ids, int index, bool truncate, string hint)
    {
        if (ids.Length <= Tokenizer.MaxTokens) return ids;
        if (truncate) return Tokenizer.Truncate(ids, Tokenizer.MaxTokens);
        throw ServingException.Large($"input {index} has {ids.Length} tokens; the model takes at most {Tokenizer.MaxTokens} ({hint})");
    }

    /// <summary>
    /// Embeddings of <paramref name="sequences"/> through the queue: the first <paramref name="dimensions"/>
    /// values (all when null), then L2-normalised when <paramref name="normalize"/>.
    /// </summary>
    public async Task<EncodeOutcome> EmbedAsync(int[][] sequences, bool normalize, int? dimensions, CancellationToken cancel)
    {
        var backend = Embedding ?? throw new ServingException(400, ServingException.Unsupported, $"model '{ModelId}' is a classifier without embeddings");
        if (dimensions is { } d && (d < 1 || d > backend.Dimensions))
            throw ServingException.Invalid($"dimensions must be in [1, {backend.Dimensions}], got {d}");
        var r = await _embedQueue!.SubmitAsync(sequences, cancel).ConfigureAwait(false);
        var vectors = new float[r.Rows.Length][];
        for (int i = 0; i < vectors.Length; i++)
        {
            var v = dimensions is { } k && k < r.Rows[i].Length ? r.Rows[i][..k] : r.Rows[i];
            if (normalize) VectorMath.Normalize(v);
            vectors[i] = v;
        }
        return Count(vectors, sequences, r);
    }

    /// <summary>Classifier logits of <paramref name="sequences"/> through the queue.</summary>
    public async Task<EncodeOutcome> ClassifyAsync(int[][] sequences, CancellationToken cancel)
    {
        if (_classifyQueue is null)
            throw new ServingException(400, ServingException.Unsupported,
                $"model '{ModelId}' is not a classifier (it has no id2label head); /predict needs one, /embed and /v1/embeddings work");
        var r = await _classifyQueue.SubmitAsync(sequences, cancel).ConfigureAwait(false);
        return Count(r.Rows, sequences, r);
    }

    EncodeOutcome Count(float[][] vectors, int[][] sequences, BatchResult r)
    {
        int tokens = sequences.Sum(s => s.Length);
        _metrics.Tokens.WithLabels("input").Inc(tokens);
        return new EncodeOutcome(vectors, tokens, r.QueueTime, r.InferenceTime);
    }

    /// <summary>Stops the queues (the backends belong to the caller).</summary>
    public void Dispose()
    {
        _embedQueue?.Dispose();
        _classifyQueue?.Dispose();
    }
}
