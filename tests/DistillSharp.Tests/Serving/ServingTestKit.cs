using System.Text;
using System.Text.Json;
using DistillSharp.Data;
using DistillSharp.Serving.Generation;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Quantization.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Serving;
using DistillSharp.Serving.Backends;
using DistillSharp.Tests.Models.Decoder;
using DistillSharp.Tests.Runtime;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Serving;

/// <summary>
/// Real servers on a free loopback port over tiny seeded models: the INT8 encoder of
/// <see cref="TinyModels.Encoder"/> (hidden 32, max 32 tokens) and a tiny INT8 Llama decoder with a
/// 300-token byte-level BPE tokenizer.
/// </summary>
internal static class ServingTestKit
{
    public static readonly string[] Texts =
    [
        "the cat sat on the mat .", "fish", "a big red dog ran fast and the small blue bird was slow", "it is not a tree , it is a house",
        "the bird ate the fish", "a small house", "red and blue", "the dog was slow and the cat was fast",
    ];

    /// <summary>A tiny INT8 encoder (the one every encoder test serves).</summary>
    public static Int8Encoder Encoder(int seed = 31)
    {
        using var encoder = TinyModels.Encoder(seed);
        return EncoderToRuntime.Build(encoder, Int8EncoderTests.Ptq(encoder), threads: 1);
    }

    /// <summary>An encoder server; <paramref name="wrap"/> may replace the backend (slow or gated fakes).</summary>
    public static Task<ServingServer> StartEncoder(ServerOptions? options = null, Func<IEmbeddingBackend, IEmbeddingBackend>? wrap = null,
        IClassifierBackend? classifier = null, int seed = 31)
    {
        var backend = new Int8EmbeddingBackend(Encoder(seed));
        var model = new ServedModel("tiny-int8", backend.Tokenizer(), wrap is null ? backend : wrap(backend), classifier);
        return ServingServer.StartAsync(model, (options ?? new ServerOptions()) with { Port = 0 });
    }

    public static readonly DecoderTokenizer DecoderTokenizer = BpeTrainer.Train(DecoderTokenizerTests.Glosses, 300, ["<|endoftext|>"]);

    /// <summary>A tiny INT8 Llama (vocab 300, 64 positions) built from seeded random weights.</summary>
    public static Int8Decoder Decoder(int seed = 7)
    {
        var config = DecoderTestKit.Llama(DecoderTokenizer.VocabSize) with { BosTokenId = 0, EosTokenIds = [0], MaxPositions = 64 };
        using var model = DecoderTestKit.Create(config, seed);
        return DecoderToRuntime.Build(model, new Int8DecoderOptions(Threads: 1));
    }

    public static Task<ServingServer> StartDecoder(ServerOptions? options = null, int maxBatchSequences = 8)
    {
        var model = new ServedModel("tiny-lm-int8", Completion: new Int8CompletionBackend(Decoder(), DecoderTokenizer));
        return ServingServer.StartAsync(model, (options ?? new ServerOptions()) with { Port = 0 }, maxBatchSequences: maxBatchSequences);
    }

    public static HttpClient Client(ServingServer server) => new() { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient client, string path, string json)
    {
        using var response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static Task<(int Status, JsonElement Body)> PostAsync(HttpClient client, string path, object body) =>
        PostAsync(client, path, JsonSerializer.Serialize(body));

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    public static double Norm(IEnumerable<float> v) => Math.Sqrt(v.Sum(x => (double)x * x));

    /// <summary>Disposes the server and its model.</summary>
    public static async Task StopAsync(ServingServer server)
    {
        await server.DisposeAsync();
        server.Model.Dispose();
    }
}

/// <summary>An embedding backend that waits for a gate before each call (to fill the queue in tests) and counts calls.</summary>
internal sealed class GatedBackend(IEmbeddingBackend inner) : IEmbeddingBackend
{
    public readonly ManualResetEventSlim Gate = new(true);
    public readonly List<int> BatchSizes = [];
    int _entered;
    /// <summary>Calls that have started (the warm-up call included).</summary>
    public int Entered => Volatile.Read(ref _entered);
    public string Runtime => inner.Runtime;
    public int Dimensions => inner.Dimensions;
    public bool Normalizes => inner.Normalizes;
    public bool PadsBatches => inner.PadsBatches;

    public float[][] Embed(IReadOnlyList<int[]> sequences)
    {
        Interlocked.Increment(ref _entered);
        Gate.Wait(TimeSpan.FromSeconds(20));
        lock (BatchSizes) BatchSizes.Add(sequences.Count);
        return inner.Embed(sequences);
    }

    public void Dispose() => inner.Dispose();
}
