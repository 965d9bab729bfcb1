using System.CommandLine;
using DistillSharp.Config.Decoder;
using DistillSharp.Pipeline.Decoder;
using Spectre.Console;
using DistillSharp.Config;

namespace DistillSharp.Cli;

/// <summary>
/// The LM pipeline's command lines: `distill run LM_CONFIG …` (dispatched from <see cref="RunCommand"/>)
/// and `distill pretrain [CONFIG] --out DIR [--max-steps N] [--set k=v]…`.
/// </summary>
public static class LmRunCommand
{
    /// <summary>`distill pretrain`.</summary>
    public static Command CreatePretrain()
    {
        var config = new Argument<string?>("config") { Description = "kind: lm YAML config with teacher.pretrain (default: the built-in configs/lm-default.yaml).", Arity = ArgumentArity.ZeroOrOne };
        var outDir = new Option<string>("--out", "-o") { Description = "Folder for the teacher (Hugging Face decoder layout).", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a config value: path=value (e.g. teacher.pretrain.train.steps=300)." };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Cap pretraining at N optimizer steps." };
        var command = new Command("pretrain", "Train the tokenizer and pretrain the decoder teacher of an LM config (cached; reused by distill run).") { config, outDir, set, maxSteps };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string? path = parse.GetValue(config);
            var cfg = Load(path, parse.GetValue(set) ?? []);
            long? cap = CheckCap(parse.GetValue(maxSteps));
            var outcome = LmPipeline.Pretrain(cfg, parse.GetValue(outDir)!, new LmRunOptions(null, cap, PlainProgress(), Console.Out, path ?? "lm-default"));
            Console.WriteLine($"teacher folder: {outcome.Folder} ({outcome.Params:N0} parameters, {outcome.Seconds / 60:F1} min{(outcome.Cached ? ", from the cache" : "")})");
            return CommandRunner.Ok;
        }));
        return command;
    }

    /// <summary>`distill run` of a kind: lm config.</summary>
    public static int Run(string path, IReadOnlyList<string> overrides, string? outDir, long? maxSteps, bool resume)
    {
        var cfg = Load(path, overrides);
        long? cap = CheckCap(maxSteps);
        LmRunOutcome? outcome = null;
        if (Console.IsOutputRedirected)
            outcome = LmPipeline.Run(cfg, new LmRunOptions(outDir, cap, PlainProgress(), Console.Out, path, Resume: resume));
        else
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var bar = ctx.AddTask("language-model run", maxValue: 1);
                    outcome = LmPipeline.Run(cfg, new LmRunOptions(outDir, cap, p =>
                    {
                        bar.Value = p.Fraction;
                        bar.Description = Markup.Escape(Describe(p));
                    }, new MarkupWriter(), path, Resume: resume));
                });
        Console.WriteLine($"run folder: {outcome!.RunDir} ({outcome.Seconds / 60:F1} min)");
        return CommandRunner.Ok;
    }

    static LmRunConfig Load(string? path, IReadOnlyList<string> overrides) => CommandRunner.CheckConfigFile(path) is { } file
        ? ConfigLoader.Load<LmRunConfig>(file, overrides)
        : ConfigLoader.Parse<LmRunConfig>(BuiltinConfigs.LmDefault, overrides, "configs/lm-default.yaml (built in)");

    static long? CheckCap(long? cap) => cap is <= 0 ? throw new DistillSharpException($"--max-steps must be > 0, got {cap}") : cap;

    /// <summary>One progress line: phase, step, loss, ETA of the whole run.</summary>
    public static string Describe(LmRunProgress p) =>
        $"[{p.PhaseIndex + 1}/{p.PhaseCount} {p.Phase}] {p.Step}/{p.Steps}"
        + (double.IsFinite(p.Loss) ? $" loss {p.Loss:F3}" : "")
        + $" ({p.Fraction:P0}) ETA {(double.IsFinite(p.EtaSeconds) ? TimeSpan.FromSeconds(p.EtaSeconds).ToString(@"hh\:mm\:ss") : "?")}";

    static Action<LmRunProgress> PlainProgress()
    {
        DateTime last = DateTime.MinValue;
        string phase = "";
        return p =>
        {
            bool phaseStart = p.Phase != phase;
            phase = p.Phase;
            if (!phaseStart && DateTime.UtcNow - last < TimeSpan.FromSeconds(10) && p.Step < p.Steps) return;
            last = DateTime.UtcNow;
            Console.WriteLine(Describe(p));
        };
    }

    /// <summary>Writes log lines above the live progress display.</summary>
    sealed class MarkupWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value) => AnsiConsole.MarkupLine(Markup.Escape(value ?? ""));
        public override void Write(char value) => AnsiConsole.Write(value.ToString());
    }
}
