using System.Net;
using DistillSharp.Serving.Http;
using DistillSharp.Serving.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DistillSharp.Serving;

/// <summary>
/// <c>distill serve</c>: Kestrel with the OpenAI- and TEI-shaped endpoints over the batching queue
/// of one <see cref="ServedModel"/>, <c>/health</c>, <c>/info</c> and <c>/metrics</c>. Start it with
/// <see cref="StartAsync"/>; dispose it to stop (the model stays the caller's).
/// </summary>
public sealed class ServingServer : IAsyncDisposable
{
    readonly WebApplication _app;

    ServingServer(WebApplication app, ServedModel model, ServerOptions options, ServingMetrics metrics, EncoderService? encoder,
        CompletionService? completion)
    {
        _app = app;
        Model = model;
        Options = options;
        Metrics = metrics;
        Encoder = encoder;
        Completion = completion;
    }

    /// <summary>The model served.</summary>
    public ServedModel Model { get; }
    /// <summary>The options in force.</summary>
    public ServerOptions Options { get; }
    /// <summary>The metrics /metrics exports.</summary>
    public ServingMetrics Metrics { get; }
    /// <summary>The encoder queues (also for in-process use), when the model is an encoder.</summary>
    public EncoderService? Encoder { get; }
    /// <summary>The completion queue, when the model is a decoder.</summary>
    public CompletionService? Completion { get; }
    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>
    /// Builds the app, warms the model up and starts listening. <paramref name="logging"/> configures
    /// ASP.NET Core's logging (default: none); <paramref name="maxBatchSequences"/> caps the sequences a
    /// decoder generates together.
    /// </summary>
    public static async Task<ServingServer> StartAsync(ServedModel model, ServerOptions options, Action<ILoggingBuilder>? logging = null,
        int maxBatchSequences = 8, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        var metrics = new ServingMetrics();
        var encoder = model.Tokenizer is not null && (model.Embedding is not null || model.Classifier is not null)
            ? new EncoderService(model.Id, model.Tokenizer, model.Embedding, model.Classifier, options.BatchingOrDefault, options.MaxInputs, metrics)
            : null;
        var completion = model.Completion is { } c ? new CompletionService(model.Id, c, options.BatchingOrDefault, metrics, maxBatchSequences) : null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Services.AddSingleton(metrics);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.Listen(Address(options.Host), options.Port);
        });
        var app = builder.Build();
        app.UseMiddleware<ServingMiddleware>();
        Map(app, model, options, metrics, encoder, completion);
        var server = new ServingServer(app, model, options, metrics, encoder, completion);
        try
        {
            await app.StartAsync(cancel).ConfigureAwait(false);
        }
        catch
        {
            encoder?.Dispose();
            completion?.Dispose();
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(bound.Replace("://[::]", "://[::1]").Replace("://0.0.0.0", "://127.0.0.1") + "/");
        return server;
    }

    static IPAddress Address(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var ip) ? ip
        : throw new ArgumentException($"host '{host}' is not an IP address or localhost", nameof(host));

    static void Map(WebApplication app, ServedModel model, ServerOptions options, ServingMetrics metrics, EncoderService? encoder,
        CompletionService? completion)
    {
        app.MapGet("/health", () => ServingJson.Json(new { status = "ok", model = model.Id, runtime = model.Runtime,
            queued = (encoder?.QueuedRows ?? 0) + (completion?.QueuedSequences ?? 0) }));
        app.MapGet("/info", () => ServingJson.Json(Info(model, options, encoder, completion)));
        app.MapMetrics("/metrics", metrics.Registry);
        Unsupported unsupported = what => throw new ServingException(400, ServingException.Unsupported, $"model '{model.Id}' is {what}");
        if (encoder is not null)
        {
            app.MapPost("/v1/embeddings", Handler(c => EmbeddingEndpoints.OpenAiAsync(c, encoder, options.AutoTruncate)));
            app.MapPost("/embed", Handler(c => EmbeddingEndpoints.TeiAsync(c, encoder)));
            app.MapPost("/predict", Handler(c => PredictEndpoint.HandleAsync(c, encoder)));
            app.MapPost("/v1/completions", () => unsupported("an encoder; /v1/completions needs a decoder (serve an LM run)"));
            app.MapPost("/v1/chat/completions", () => unsupported("an encoder; /v1/chat/completions needs a decoder (serve an LM run)"));
        }
        if (completion is not null)
        {
            app.MapPost("/v1/completions", Handler(c => CompletionEndpoints.CompletionsAsync(c, completion)));
            app.MapPost("/v1/chat/completions", Handler(c => CompletionEndpoints.ChatAsync(c, completion)));
            foreach (string path in new[] { "/v1/embeddings", "/embed", "/predict" })
                app.MapPost(path, () => unsupported($"a decoder; {path} needs an encoder"));
        }
        app.MapFallback((HttpContext context) =>
            throw new ServingException(404, "not_found", $"no endpoint {context.Request.Method} {context.Request.Path}; see /info"));
    }

    delegate IResult Unsupported(string what);

    // A typed handler, so minimal APIs write the IResult it returns (a bare HttpContext lambda would be a RequestDelegate).
    static Func<HttpContext, Task<IResult>> Handler(Func<HttpContext, Task<IResult>> handle) => handle;

    static object Info(ServedModel model, ServerOptions options, EncoderService? encoder, CompletionService? completion)
    {
        var b = options.BatchingOrDefault;
        return new
        {
            model_id = model.Id,
            runtime = model.Runtime,
            model_type = encoder is null ? "decoder" : encoder.Classifier is not null ? "classifier" : "embedding",
            dimensions = encoder?.Embedding?.Dimensions,
            labels = encoder?.Classifier?.Labels,
            max_input_length = encoder?.Tokenizer.MaxTokens ?? completion?.Backend.MaxContext,
            max_batch_tokens = b.MaxBatchTokens,
            max_wait_ms = b.MaxWaitMs,
            max_queue = b.MaxQueue,
            max_client_batch_size = options.MaxInputs,
            auto_truncate = options.AutoTruncate,
        };
    }

    /// <summary>Completes when the server stops (Ctrl+C, SIGTERM or <paramref name="cancel"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>Stops listening, then the queues (waiting requests get 503).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        Encoder?.Dispose();
        Completion?.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
