using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Runtime.Static;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Cli;

/// <summary>`distill eval --model M --task T… [--json]`: runs evaluation tasks on real data.</summary>
static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "builtin:NAME, an .onnx file, a Hugging Face folder, a static student folder or a run folder.", Required = true };
        var tasks = new Option<string[]>("--task", "-t")
        {
            Description = "Task(s): " + string.Join(", ", EvalRegistry.Tasks.Keys) + " (default: all).",
            AllowMultipleArgumentsPerToken = true,
        };
        var teacher = new Option<string>("--teacher") { Description = "Teacher for the agreement task.", DefaultValueFactory = _ => "builtin:all-MiniLM-L6-v2" };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per text.", DefaultValueFactory = _ => 64 };
        var json = new Option<bool>("--json") { Description = "Print results as JSON." };
        var command = new Command("eval", "Evaluate a sentence encoder on WordNet retrieval, spam F1 and teacher agreement.") { model, tasks, teacher, maxLength, json };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string[] names = parse.GetValue(tasks) is { Length: > 0 } t ? t : EvalRegistry.Tasks.Keys.ToArray();
            foreach (string name in names) EvalRegistry.Create(name); // unknown names fail before any work
            int length = CommandRunner.InRange(parse.GetValue(maxLength), "--max-length", 3, BertTextTokenizer.MaxSupportedLength);
            string spec = parse.GetValue(model)!;
            // A static student (its folder or a run folder with student-static/) runs in the runtime; everything else through ModelLoader.
            bool isStatic = Directory.Exists(spec) && (StaticEncoderFile.IsFolder(spec) || StaticEncoderFile.IsFolder(Path.Combine(spec, StaticEncoderFile.RunSubfolder)))
                && !HuggingFaceFolder.IsModelFolder(Path.Combine(spec, "student"));
            var staticEncoder = isStatic ? StaticEncoderFile.Load(spec, length) : null;
            using var encoder = isStatic ? null : ModelLoader.Load(spec, length);
            using var teacherEncoder = names.Any(EvalRegistry.UsesTeacher.Contains) ? ModelLoader.Load(parse.GetValue(teacher)!, length) : null;
            var log = parse.GetValue(json) ? TextWriter.Null : Console.Error;
            Func<IReadOnlyList<string>, float[][]> embed = staticEncoder is not null ? staticEncoder.Embed : texts => encoder!.Embed(texts);
            var context = new EvalContext(embed, EvalData.Real(log),
                teacherEncoder is null ? null : VariantMeasurer.Memoized(texts => teacherEncoder.Embed(texts)), Log: log);
            var results = new List<(EvalResult Result, double Seconds)>();
            foreach (string name in names)
            {
                var clock = Stopwatch.StartNew();
                results.Add((EvalRegistry.Create(name).Run(context), clock.Elapsed.TotalSeconds));
            }
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(results.ToDictionary(r => r.Result.Task, r => r.Result.Metrics)));
            else
                foreach (var (r, s) in results)
                    Console.WriteLine($"{r.Task} ({s:F1} s): {string.Join(", ", r.Metrics.Select(m => $"{m.Key} {m.Value:F4}"))}");
            return CommandRunner.Ok;
        }));
        return command;
    }
}
