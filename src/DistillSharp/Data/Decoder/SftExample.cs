using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Data.Decoder;

/// <summary>
/// One supervised fine-tuning example as token ids: the model reads prompt + response and is
/// scored only on predicting the response tokens. The texts are optional (kept for humans).
/// </summary>
/// <param name="Prompt">Prompt token ids.</param>
/// <param name="Response">Response token ids (include the EOS id here if the model should learn to stop).</param>
/// <param name="PromptText">The prompt as text, when known.</param>
/// <param name="ResponseText">The response as text, when known.</param>
public sealed record SftExample(int[] Prompt, int[] Response, string? PromptText = null, string? ResponseText = null)
{
    /// <summary>
    /// Writes examples as JSON lines: <c>{"prompt": …, "response": …, "prompt_ids": […], "response_ids": […]}</c>
    /// (text fields only when present). Written through a temporary file and renamed.
    /// </summary>
    public static void WriteJsonl(string path, IEnumerable<SftExample> examples)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..6];
        using (var writer = new StreamWriter(temp))
        {
            foreach (var e in examples)
            {
                var o = new JsonObject();
                if (e.PromptText != null) o["prompt"] = e.PromptText;
                if (e.ResponseText != null) o["response"] = e.ResponseText;
                o["prompt_ids"] = new JsonArray(e.Prompt.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
                o["response_ids"] = new JsonArray(e.Response.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
                writer.WriteLine(o.ToJsonString());
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads JSON lines written by <see cref="WriteJsonl"/>; blank lines are skipped; errors name the line.</summary>
    public static List<SftExample> ReadJsonl(string path)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"SFT file {path} does not exist");
        var examples = new List<SftExample>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                var o = JsonNode.Parse(line) as JsonObject
                    ?? throw new DistillSharpException($"{path} line {lineNumber}: expected a JSON object");
                examples.Add(new SftExample(Ids(o, "prompt_ids", path, lineNumber), Ids(o, "response_ids", path, lineNumber),
                    o["prompt"]?.GetValue<string>(), o["response"]?.GetValue<string>()));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                throw new DistillSharpException($"{path} line {lineNumber}: {e.Message}", e);
            }
        }
        return examples;
    }

    static int[] Ids(JsonObject o, string key, string path, int line)
    {
        if (o[key] is not JsonArray array)
            throw new DistillSharpException($"{path} line {line}: '{key}' (an array of token ids) is missing; tokenize the text first");
        var ids = array.Select(n => n?.GetValue<int>() ?? throw new DistillSharpException($"{path} line {line}: null in '{key}'")).ToArray();
        if (ids.Any(i => i < 0)) throw new DistillSharpException($"{path} line {line}: '{key}' has a negative token id");
        return ids;
    }
}
