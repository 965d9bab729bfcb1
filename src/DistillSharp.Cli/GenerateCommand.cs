using System.CommandLine;
using System.Globalization;
using DistillSharp.Models.Decoder;
using DistillSharp.Models.Decoder.Generation;
using DistillSharp.Runtime.Decoder.Generation;
namespace DistillSharp.Cli;

/// <summary>
/// `distill generate --model DIR --prompt TEXT… [--max-new-tokens N] [--temperature T] [--top-k K]
/// [--top-p P] [--repetition-penalty R] [--seed S]`: continues prompts with a decoder LM, streaming.
/// </summary>
static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A Hugging Face decoder folder (config.json, safetensors, tokenizer.json) or a run folder with student/.", Required = true };
        var prompts = new Option<string[]>("--prompt", "-p") { Description = "Prompt text (repeat for a batch).", Required = true };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Tokens to generate at most per prompt.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 = greedy.", DefaultValueFactory = _ => 0.0 };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens (0 = off).", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling probability mass (1 = off).", DefaultValueFactory = _ => 1.0 };
        var penalty = new Option<double>("--repetition-penalty") { Description = "Penalty on tokens already present (1 = off).", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong>("--seed") { Description = "Sampler seed.", DefaultValueFactory = _ => 42UL };
        var command = new Command("generate", "Continue prompts with a decoder language model, streaming the text.")
            { model, prompts, maxNew, temperature, topK, topP, penalty, seed };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNew), Temperature = parse.GetValue(temperature), TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP), RepetitionPenalty = parse.GetValue(penalty), Seed = parse.GetValue(seed),
            };
            options.Validate();
            string[] texts = parse.GetValue(prompts)!;
            var (lm, tokenizer) = DecoderFolder.Load(parse.GetValue(model)!);
            using var _ = lm;
            if (tokenizer is null) throw new DistillSharpException($"{parse.GetValue(model)}: no tokenizer.json beside the model; generate needs one");
            var generator = new TextGenerator(lm, tokenizer);
            IReadOnlyList<GenerationResult> results;
            if (texts.Length == 1)
            {
                // One prompt streams as it is generated.
                Console.Write(texts[0]);
                results = generator.Generate(texts, options, (_, piece) => Console.Write(piece));
                Console.WriteLine();
            }
            else
            {
                // Several prompts run as one left-padded batch and print when all are done.
                results = generator.Generate(texts, options);
                for (int i = 0; i < texts.Length; i++) Console.WriteLine($"--- {i}\n{texts[i]}{results[i].Text}");
            }
            var r = results[0];
            int generated = results.Sum(x => x.GeneratedIds.Length);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{texts.Length} prompt(s), {generated} tokens; prefill {r.PrefillTime.TotalMilliseconds:F0} ms, decode {r.DecodeTime.TotalMilliseconds:F0} ms " +
                $"({(r.DecodeTime.TotalSeconds > 0 ? (generated - results.Count) / r.DecodeTime.TotalSeconds : 0):F1} tokens/s); stop: {string.Join(", ", results.Select(x => x.StopReason))}]"));
            return CommandRunner.Ok;
        }));
        return command;
    }
}
