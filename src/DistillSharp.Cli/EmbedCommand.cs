using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Cli;

/// <summary>`distill embed --model M [--json] TEXT…`: prints sentence embeddings.</summary>
static class EmbedCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "builtin:NAME, an .onnx file (vocab.txt beside it), a Hugging Face folder or a run folder.",
            DefaultValueFactory = _ => "builtin:all-MiniLM-L6-v2",
        };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of {text, embedding}." };
        var maxLength = new Option<int?>("--max-length") { Description = "Truncate texts to this many tokens (default: the model's)." };
        var texts = new Argument<string[]>("text") { Description = "Texts to embed.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("embed", "Print sentence embeddings of the given texts.") { model, json, maxLength, texts };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string[] inputs = parse.GetValue(texts)!;
            if (parse.GetValue(maxLength) is { } length) CommandRunner.InRange(length, "--max-length", 3, BertTextTokenizer.MaxSupportedLength);
            using var encoder = ModelLoader.Load(parse.GetValue(model)!, parse.GetValue(maxLength));
            float[][] embeddings = encoder.Embed(inputs);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    inputs.Zip(embeddings, (t, e) => new { text = t, embedding = e }),
                    new JsonSerializerOptions { WriteIndented = false }));
            }
            else
            {
                for (int i = 0; i < inputs.Length; i++)
                {
                    var e = embeddings[i];
                    string head = string.Join(", ", e.Take(8).Select(v => v.ToString("F6", CultureInfo.InvariantCulture)));
                    Console.WriteLine($"{inputs[i]}\n  dim {e.Length}, norm {Math.Sqrt(e.Sum(v => (double)v * v)):F4}: [{head}, …]");
                }
            }
            return CommandRunner.Ok;
        }));
        return command;
    }
}
