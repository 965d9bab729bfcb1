using System.CommandLine;
using DistillSharp.Config;
using DistillSharp.Config.Classifier;
using DistillSharp.Distillation;
using DistillSharp.Pipeline.Classifier;

namespace DistillSharp.Cli;

/// <summary>
/// The classification pipeline's command lines: `distill run CLASSIFY_CONFIG …` (dispatched from
/// <see cref="RunCommand"/>) and `distill finetune CONFIG --out DIR [--max-steps N] [--set k=v]…`.
/// </summary>
public static class ClassifyRunCommand
{
    /// <summary>`distill finetune`.</summary>
    public static Command CreateFineTune()
    {
        var config = new Argument<string>("config") { Description = "kind: classify YAML config with teacher.base and teacher.finetune." };
        var outDir = new Option<string>("--out", "-o") { Description = "Folder for the fine-tuned teacher (Hugging Face BertForSequenceClassification layout).", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a config value: path=value (e.g. teacher.finetune.steps=500)." };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Cap fine-tuning at N optimizer steps." };
        var command = new Command("finetune", "Fine-tune the classifier teacher of a classify config on its labelled data (cached; reused by distill run).")
            { config, outDir, set, maxSteps };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string path = parse.GetValue(config)!;
            var cfg = ConfigLoader.Load<ClassifyRunConfig>(path, parse.GetValue(set) ?? []);
            var outcome = ClassifyPipeline.FineTune(cfg, parse.GetValue(outDir)!, Options(null, CheckCap(parse.GetValue(maxSteps)), path));
            Console.WriteLine($"teacher folder: {outcome.Folder} ({outcome.Seconds / 60:F1} min{(outcome.Cached ? ", from the cache" : "")})");
            return CommandRunner.Ok;
        }));
        return command;
    }

    /// <summary>`distill run` of a kind: classify config.</summary>
    public static int Run(string path, IReadOnlyList<string> overrides, string? outDir, long? maxSteps, bool resume)
    {
        if (resume)
            throw new DistillSharpException("--resume is not supported for kind: classify runs; start a new run with --out (a fine-tuned teacher and the teacher's outputs are reused from the cache)");
        var cfg = ConfigLoader.Load<ClassifyRunConfig>(path, overrides);
        var outcome = ClassifyPipeline.Run(cfg, Options(outDir, CheckCap(maxSteps), path));
        Console.WriteLine($"run folder: {outcome.RunDir} ({outcome.Seconds / 60:F1} min)");
        return CommandRunner.Ok;
    }

    static ClassifyRunOptions Options(string? outDir, long? cap, string configName) =>
        new(outDir, cap, Console.Out, configName, Progress: PlainProgress());

    static long? CheckCap(long? cap) => cap is <= 0 ? throw new DistillSharpException($"--max-steps must be > 0, got {cap}") : cap;

    /// <summary>A progress line every 10 s and at each stage's last step: phase, stage, step, loss, ETA of the phase.</summary>
    static Action<string, TrainingProgress> PlainProgress()
    {
        DateTime last = DateTime.MinValue;
        return (phase, p) =>
        {
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(10) && p.StageStep < p.StageSteps) return;
            last = DateTime.UtcNow;
            Console.WriteLine($"[{phase}] {p.Stage} {p.StageStep}/{p.StageSteps} (step {p.GlobalStep}/{p.TotalSteps}) loss {p.Loss:F4}, " +
                              $"{p.SecondsPerStep:F2} s/step, phase ETA {TimeSpan.FromSeconds(p.EtaSeconds):hh\\:mm\\:ss}");
        };
    }
}
