using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DistillSharp.Serving.Http;

/// <summary>Body of TEI's <c>POST /predict</c>.</summary>
public sealed record TeiPredictRequest
{
    /// <summary>A string; or a batch <c>[["a"], ["b"], …]</c>. (TEI's text pairs <c>["a", "b"]</c> are refused: our classifiers take single texts.)</summary>
    public JsonElement Inputs { get; init; }
    /// <summary>Cut inputs longer than the model's maximum instead of answering 413.</summary>
    public bool Truncate { get; init; }
    /// <summary>Return logits instead of softmax probabilities.</summary>
    public bool RawScores { get; init; }
}

/// <summary>One label's score.</summary>
public sealed record Prediction(float Score, string Label);

/// <summary><c>POST /predict</c> (text-embeddings-inference shape): labels sorted by score, best first.</summary>
public static class PredictEndpoint
{
    /// <summary>Handles one request.</summary>
    public static async Task<IResult> HandleAsync(HttpContext context, EncoderService service)
    {
        var request = await ServingJson.ReadAsync<TeiPredictRequest>(context.Request);
        var (texts, single) = Texts(request.Inputs);
        var sequences = service.Tokenize(texts, request.Truncate);
        var outcome = await service.ClassifyAsync(sequences, context.RequestAborted);
        EmbeddingEndpoints.Timing(context, outcome);
        var labels = service.Classifier!.Labels;
        var predictions = outcome.Vectors.Select(logits =>
        {
            var scores = request.RawScores ? logits : Backends.VectorMath.Softmax(logits);
            return scores.Select((s, i) => new Prediction(s, labels[i])).OrderByDescending(p => p.Score).ToList();
        }).ToList();
        return single ? ServingJson.Json(predictions[0]) : ServingJson.Json(predictions);
    }

    static (IReadOnlyList<string> Texts, bool Single) Texts(JsonElement inputs)
    {
        const string shapes = "a string, [\"text\"] or a batch [[\"text\"], [\"text\"], …]";
        if (inputs.ValueKind == JsonValueKind.String) return ([ServingJson.Text(inputs)], true);
        if (inputs.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) throw ServingException.Invalid("'inputs' is required");
        if (inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0) throw ServingException.Invalid($"'inputs' must be {shapes}");
        if (inputs[0].ValueKind == JsonValueKind.String)
        {
            if (inputs.GetArrayLength() == 1) return ([ServingJson.Text(inputs[0])], true);
            throw ServingException.Invalid("'inputs' is a text pair; sequence-pair classification is not supported (send a batch as [[\"a\"], [\"b\"]])");
        }
        var texts = new List<string>();
        int i = 0;
        foreach (var item in inputs.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Array || item.GetArrayLength() != 1 || item[0].ValueKind != JsonValueKind.String)
                throw ServingException.Invalid($"'inputs[{i}]' must be [\"text\"] (one string; pairs are not supported)");
            texts.Add(ServingJson.Text(item[0]));
            i++;
        }
        return (texts, false);
    }
}
