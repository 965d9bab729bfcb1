using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DistillSharp.Models.Classifier;

namespace DistillSharp.Cli;

/// <summary>`distill classify --model M [--json] [--top K] TEXT…`: prints each text's most probable labels.</summary>
static class ClassifyCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "A classifier: Hugging Face folder (BertForSequenceClassification), INT8 classifier folder, or a run folder (its student/).",
            Required = true,
        };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of {text, labels: [{label, probability}], truncated}." };
        var top = new Option<int>("--top", "-k") { Description = "How many labels to print per text.", DefaultValueFactory = _ => 3 };
        var maxLength = new Option<int?>("--max-length") { Description = "Truncate texts to this many tokens (default: the model's)." };
        var texts = new Argument<string[]>("text") { Description = "Texts to classify.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("classify", "Print the most probable labels of the given texts.") { model, json, top, maxLength, texts };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string[] inputs = parse.GetValue(texts)!;
            using var classifier = LoadedClassifier.Load(parse.GetValue(model)!, parse.GetValue(maxLength));
            var results = classifier.Classify(inputs, parse.GetValue(top));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(results.Select(r => new
                {
                    text = r.Text,
                    labels = r.Labels.Select(l => new { label = l.Label, probability = l.Probability }),
                    truncated = r.Truncated,
                })));
            }
            else
            {
                foreach (var r in results)
                {
                    Console.WriteLine(r.Text);
                    foreach (var (label, p) in r.Labels) Console.WriteLine($"  {p.ToString("F4", CultureInfo.InvariantCulture)}  {label}");
                }
            }
            int truncated = results.Count(r => r.Truncated);
            if (truncated > 0)
                Console.Error.WriteLine($"note: {truncated} of {results.Count} texts had more than {classifier.Tokenizer.MaxLength} tokens and were truncated");
            return CommandRunner.Ok;
        }));
        return command;
    }
}
