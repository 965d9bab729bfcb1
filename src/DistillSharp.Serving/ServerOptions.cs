using DistillSharp.Serving.Backends;
using DistillSharp.Serving.Batching;

namespace DistillSharp.Serving;

/// <summary>What <c>distill serve</c> listens on and the limits it enforces.</summary>
/// <param name="Host">Address to bind: an IP (<c>127.0.0.1</c>, <c>0.0.0.0</c>, <c>::</c>) or <c>localhost</c>.</param>
/// <param name="Port">TCP port; 0 = any free port (see <see cref="ServingServer.BaseAddress"/>).</param>
/// <param name="Batching">Token budget, maximum wait and queue bound of the batching queue.</param>
/// <param name="MaxInputs">Most inputs (texts or sequences) in one request; more is a 413.</param>
/// <param name="AutoTruncate">Cut too-long inputs of <c>/v1/embeddings</c> (which has no truncate field) instead of answering 413.</param>
/// <param name="MaxBodyBytes">Largest request body; more is a 413.</param>
public sealed record ServerOptions(string Host = "127.0.0.1", int Port = 8080, BatchingOptions? Batching = null, int MaxInputs = 256,
    bool AutoTruncate = false, long MaxBodyBytes = 8 << 20)
{
    /// <summary>The batching options in force.</summary>
    public BatchingOptions BatchingOrDefault => Batching ?? new BatchingOptions();

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public ServerOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("host must not be empty", nameof(Host));
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "port must be in [0, 65535]");
        if (MaxInputs < 1) throw new ArgumentOutOfRangeException(nameof(MaxInputs), MaxInputs, "max-inputs must be >= 1");
        if (MaxBodyBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), MaxBodyBytes, "the body limit must be >= 1024 bytes");
        var b = BatchingOrDefault.Validate();
        if (b.MaxQueue < MaxInputs)
            throw new ArgumentOutOfRangeException(nameof(Batching), b.MaxQueue, $"max-queue ({b.MaxQueue}) must be >= max-inputs ({MaxInputs}), or a full-size request could never be admitted");
        return this;
    }
}

/// <summary>
/// The model a server serves: an encoder (tokenizer + embedding and/or classifier backend) or a
/// decoder (completion backend). Disposing it disposes the backends.
/// </summary>
public sealed record ServedModel(string Id, ITextTokenizer? Tokenizer = null, IEmbeddingBackend? Embedding = null,
    IClassifierBackend? Classifier = null, ICompletionBackend? Completion = null) : IDisposable
{
    /// <summary>Runtime name of the first backend present.</summary>
    public string Runtime => Embedding?.Runtime ?? Classifier?.Runtime ?? Completion?.Runtime ?? "none";

    /// <summary>Throws <see cref="ArgumentException"/> when the parts do not make a servable model.</summary>
    public ServedModel Validate()
    {
        if (string.IsNullOrWhiteSpace(Id)) throw new ArgumentException("the model needs an id", nameof(Id));
        bool encoder = Embedding is not null || Classifier is not null;
        if (encoder == (Completion is not null)) throw new ArgumentException("serve either an encoder (embedding/classifier backend) or a decoder (completion backend)");
        if (encoder && Tokenizer is null) throw new ArgumentException("an encoder needs a tokenizer", nameof(Tokenizer));
        return this;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Embedding?.Dispose();
        Classifier?.Dispose();
        Completion?.Dispose();
    }
}
