using System.CommandLine;
using DistillSharp.Config;
using DistillSharp.Distillation;
using DistillSharp.Pipeline;
using DistillSharp.Pipeline.Lm;
using Spectre.Console;

namespace DistillSharp.Cli;

/// <summary>`distill run [CONFIG] [--out DIR] [--set k=v]… [--max-steps N] [--resume]`: the whole pipeline (a <c>kind: lm</c> config runs the LM pipeline).</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Argument<string?>("config") { Description = "YAML config (default: the built-in configs/default.yaml).", Arity = ArgumentArity.ZeroOrOne };
        var outDir = new Option<string?>("--out", "-o") { Description = "Run folder (default: the config's output)." };
        var set = new Option<string[]>("--set") { Description = "Override a config value: path=value (e.g. stages[0].optimizer.lr=3e-5).", AllowMultipleArgumentsPerToken = false };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Stop distillation cleanly after N optimizer steps in total (checkpoint written)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint." };
        var command = new Command("run", "Distil, evaluate, quantize, export, benchmark and report, as the config says.") { config, outDir, set, maxSteps, resume };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string? path = parse.GetValue(config);
            var overrides = parse.GetValue(set) ?? [];
            if (path is not null && LmConfigLoader.IsLm(path))
                return LmRunCommand.Run(path, overrides, parse.GetValue(outDir), parse.GetValue(maxSteps), parse.GetValue(resume));
            RunConfig cfg = path is null
                ? ConfigLoader.Parse(DefaultConfig.Yaml, overrides, "configs/default.yaml (built in)")
                : ConfigLoader.Load(path, overrides);
            long? cap = parse.GetValue(maxSteps);
            if (cap is <= 0) throw new DistillSharpException($"--max-steps must be > 0, got {cap}");
            RunOutcome outcome = Console.IsOutputRedirected
                ? RunPipeline.Run(cfg, new RunOptions(parse.GetValue(outDir), cap, parse.GetValue(resume), PlainProgress(), Console.Out, path ?? "default"))
                : RunWithProgressBar(cfg, parse.GetValue(outDir), cap, parse.GetValue(resume), path ?? "default");
            Console.WriteLine($"run folder: {outcome.RunDir} ({outcome.Seconds / 60:F1} min){(outcome.DistillationCompleted ? "" : "; distillation stopped at --max-steps, continue with --resume")}");
            return CommandRunner.Ok;
        }));
        return command;
    }

    static Action<DistillProgress> PlainProgress()
    {
        DateTime last = DateTime.MinValue;
        return p =>
        {
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(10) && p.GlobalStep < p.TotalSteps) return;
            last = DateTime.UtcNow;
            Console.WriteLine($"[{p.Stage}] step {p.StageStep}/{p.StageSteps} (total {p.GlobalStep}/{p.TotalSteps}) loss {p.Loss:F4}, {p.SecondsPerStep:F2} s/step, ETA {TimeSpan.FromSeconds(p.EtaSeconds):hh\\:mm\\:ss}");
        };
    }

    static RunOutcome RunWithProgressBar(RunConfig cfg, string? outDir, long? cap, bool resume, string configName)
    {
        RunOutcome? outcome = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("distillation", maxValue: 1);
                var log = new MarkupWriter();
                outcome = RunPipeline.Run(cfg, new RunOptions(outDir, cap, resume, p =>
                {
                    bar.MaxValue = p.TotalSteps;
                    bar.Value = p.GlobalStep;
                    bar.Description = Describe(p);
                }, log, configName));
            });
        return outcome!;
    }

    /// <summary>The progress bar's text, as Spectre markup (the stage name in brackets is escaped).</summary>
    public static string Describe(DistillProgress p) =>
        Markup.Escape($"[{p.Stage}] {p.StageStep}/{p.StageSteps} loss {p.Loss:F4} ETA {TimeSpan.FromSeconds(p.EtaSeconds):hh\\:mm\\:ss}");

    /// <summary>Writes log lines above the live progress display.</summary>
    sealed class MarkupWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value) => AnsiConsole.MarkupLine(Markup.Escape(value ?? ""));
        public override void Write(char value) => AnsiConsole.Write(value.ToString());
    }
}
