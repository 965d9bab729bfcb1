using Microsoft.Extensions.AI;

namespace DistillSharp.Serving.InProcess;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over an
/// <see cref="EncoderService"/>: the same tokenizer, limits, batching queue and runtime as
/// <c>distill serve</c>, without HTTP, so a .NET app (or Semantic Kernel) embeds with the student in
/// process. Concurrent callers share micro-batches. <see cref="EmbeddingGenerationOptions.Dimensions"/>
/// cuts and re-normalises as <c>/v1/embeddings</c> does.
/// </summary>
public sealed class RuntimeEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    readonly EncoderService _service;
    readonly bool _truncate;
    readonly bool _ownsService;
    readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>
    /// Embeds through <paramref name="service"/>; <paramref name="truncate"/> cuts too-long texts
    /// (else they throw); <paramref name="ownsService"/> disposes the service (not its backends) with the generator.
    /// </summary>
    public RuntimeEmbeddingGenerator(EncoderService service, bool truncate = true, bool ownsService = false)
    {
        _service = service ?? throw new ArgumentNullException(nameof(service));
        if (service.Embedding is null) throw new ArgumentException($"model '{service.ModelId}' has no embedding backend", nameof(service));
        _truncate = truncate;
        _ownsService = ownsService;
        _metadata = new EmbeddingGeneratorMetadata("distillsharp", null, service.ModelId, service.Embedding.Dimensions);
    }

    /// <summary>
    /// Embeddings of <paramref name="values"/>, in order. Bad input (too many texts, too long without
    /// truncation, bad dimensions) throws <see cref="Http.ServingException"/>.
    /// </summary>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values.ToList();
        var sequences = _service.Tokenize(texts, _truncate);
        var outcome = await _service.EmbedAsync(sequences, _service.Embedding!.Normalizes, options?.Dimensions, cancellationToken).ConfigureAwait(false);
        var created = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(outcome.Vectors.Select(v => new Embedding<float>(v)
        {
            ModelId = _service.ModelId,
            CreatedAt = created,
        }))
        {
            Usage = new UsageDetails { InputTokenCount = outcome.Tokens, TotalTokenCount = outcome.Tokens },
        };
        return result;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return _metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(_service)) return _service;
        return null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsService) _service.Dispose();
    }
}
