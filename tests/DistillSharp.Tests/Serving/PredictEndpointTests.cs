using DistillSharp.Serving;
using DistillSharp.Serving.Backends;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>/predict (TEI shape) with a real small classifier: the tiny INT8 encoder + a nearest-prototype linear head.</summary>
public sealed class PredictEndpointTests
{
    [Fact]
    public async Task PredictReturnsLabelsSortedByScore()
    {
        // Prototype head: the weights are the embeddings of one text per label, so each text is closest to its own label.
        string[] prototypes = [Texts[0], Texts[2], Texts[5]];
        string[] labels = ["cat", "dog", "house"];
        using var reference = Encoder();
        var weights = reference.Embed(prototypes).Select(v => v.Select(x => x * 10).ToArray()).ToArray();
        var backend = new Int8EmbeddingBackend(Encoder());
        var model = new ServedModel("tiny-classifier", backend.Tokenizer(), backend, new LinearHeadClassifier(backend, labels, weights, [0, 0, 0]));
        var server = await ServingServer.StartAsync(model, new ServerOptions(Port: 0));
        try
        {
            using var client = Client(server);
            var (status, body) = await PostAsync(client, "/predict", new { inputs = prototypes[1] });
            Assert.Equal(200, status);
            var scores = body.EnumerateArray().Select(p => (Label: p.GetProperty("label").GetString(), Score: p.GetProperty("score").GetSingle())).ToList();
            Assert.Equal("dog", scores[0].Label);
            Assert.Equal(scores.OrderByDescending(s => s.Score).Select(s => s.Label), scores.Select(s => s.Label));
            Assert.Equal(1.0, scores.Sum(s => s.Score), 5);

            (status, body) = await PostAsync(client, "/predict", new { inputs = prototypes.Select(p => new[] { p }).ToArray(), raw_scores = true });
            Assert.Equal(200, status);
            Assert.Equal(labels, body.EnumerateArray().Select(row => row[0].GetProperty("label").GetString()));
            Assert.Equal(10.0, body[0][0].GetProperty("score").GetSingle(), 4);   // logit = 10 · |e|² of a unit vector

            (status, body) = await PostAsync(client, "/predict", new { inputs = new[] { "a", "b" } });
            Assert.Equal(422, status);
            Assert.Contains("pair", body.GetProperty("error").GetProperty("message").GetString());
            Assert.Contains("\"model_type\":\"classifier\"", await client.GetStringAsync("/info"));
        }
        finally
        {
            await server.DisposeAsync();
            backend.Dispose();
        }
    }
}
