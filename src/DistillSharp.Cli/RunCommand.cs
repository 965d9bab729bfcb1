using System.CommandLine;
using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Pipeline.Encoder;
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
            CommandRunner.CheckConfigFile(path);
            if (path is not null && ConfigKinds.FileIs(path, ConfigKinds.Lm))
                return LmRunCommand.Run(path, overrides, parse.GetValue(outDir), parse.GetValue(maxSteps), parse.GetValue(resume));
            if (path is not null && ConfigKinds.FileIs(path, ConfigKinds.Classify))
                return ClassifyRunCommand.Run(path, overrides, parse.GetValue(outDir), parse.GetValue(maxSteps), parse.GetValue(resume));
            RunConfig cfg = path is null
                ? ConfigLoader.Parse<RunConfig>(BuiltinConfigs.Default, overrides, "configs/default.yaml (built in)")
                : ConfigLoader.Load<RunConfig>(path, overrides);
            long? cap = parse.GetValue(maxSteps);
            if (cap is <= 0) throw new DistillSharpException($"--max-steps must be > 0, got {cap}");
            RunOutcome outcome = Console.IsOutputRedirected
                ? RunPipeline.Run(cfg, new RunOptions(parse.GetValue(outDir), cap, parse.GetValue(resume), null, Console.Out, path ?? "default", PlainProgress()))
                : RunWithProgressBar(cfg, parse.GetValue(outDir), cap, parse.GetValue(resume), path ?? "default");
            Console.WriteLine($"run folder: {outcome.RunDir} ({outcome.Seconds / 60:F1} min){(outcome.DistillationCompleted ? "" : "; distillation stopped at --max-steps, continue with --resume")}");
            return CommandRunner.Ok;
        }));
        return command;
    }

    static Action<RunProgress> PlainProgress()
    {
        DateTime last = DateTime.MinValue;
        object gate = new();
        return p =>
        {
            lock (gate)
            {
                if (DateTime.UtcNow - last < TimeSpan.FromSeconds(10)) return;
                last = DateTime.UtcNow;
            }
            Console.WriteLine(Describe(p));
        };
    }

    static RunOutcome RunWithProgressBar(RunConfig cfg, string? outDir, long? cap, bool resume, string configName)
    {
        RunOutcome? outcome = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("run", maxValue: 1);
                bar.IsIndeterminate = true;
                var log = new MarkupWriter();
                outcome = RunPipeline.Run(cfg, new RunOptions(outDir, cap, resume, null, log, configName, p =>
                {
                    // The bar measures time: elapsed out of elapsed + ETA, so its percentage is honest too.
                    if (p.EtaSeconds is { } eta)
                    {
                        bar.IsIndeterminate = false;
                        bar.MaxValue = Math.Max(1, p.ElapsedSeconds + eta);
                        bar.Value = p.ElapsedSeconds;
                    }
                    bar.Description = DescribeMarkup(p);
                }));
            });
        return outcome!;
    }

    /// <summary>The progress text as Spectre markup (phase names and details in brackets are escaped).</summary>
    public static string DescribeMarkup(RunProgress p) => Markup.Escape(Describe(p));

    /// <summary>The progress text: phase, its detail, and the whole run's ETA (or that it is not known yet).</summary>
    public static string Describe(RunProgress p)
    {
        string eta = p.EtaSeconds is { } s ? $"ETA {TimeSpan.FromSeconds(s):hh\\:mm\\:ss}" : "ETA after the first distillation steps";
        return $"[{p.Phase}]{(p.Detail.Length > 0 ? " " + p.Detail : "")} · run {TimeSpan.FromSeconds(p.ElapsedSeconds):hh\\:mm\\:ss} · {eta}";
    }

    /// <summary>Writes log lines above the live progress display.</summary>
    sealed class MarkupWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value) => AnsiConsole.MarkupLine(Markup.Escape(value ?? ""));
        public override void Write(char value) => AnsiConsole.Write(value.ToString());
    }
}
