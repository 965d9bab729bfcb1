using System.CommandLine;
using System.Globalization;
using DistillSharp.Config.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Quantization.Observers;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Cli;

/// <summary>
/// `distill quantize --model M --observer NAME --calib N [--mode static|dynamic] [--qat --steps S]
/// [--fallback-tolerance X] --out DIR`, and `--sweep` for the observers × methods table.
/// </summary>
static class QuantizeCommand
{
    public static Command Create()
    {
        var d = new QuantizeJobOptions("", "");
        var model = new Option<string>("--model", "-m") { Description = "builtin:NAME, a Hugging Face folder or a run folder.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (INT8 model + sensitivity.json/.md + quantize.json).", Required = true };
        var observer = new Option<string>("--observer") { Description = "Activation observer: " + string.Join(", ", ObserverRegistry.Names) + ".", DefaultValueFactory = _ => d.Observer };
        var calib = new Option<int>("--calib") { Description = "Calibration batches (of 16 training texts).", DefaultValueFactory = _ => d.CalibBatches };
        var mode = new Option<string>("--mode") { Description = "static, dynamic (per token) or dynamic-per-tensor activations (docs/QUANTIZATION.md: recipes).", DefaultValueFactory = _ => d.Mode };
        var scheme = new Option<string>("--scheme") { Description = "symmetric or asymmetric activations.", DefaultValueFactory = _ => d.Scheme };
        var qat = new Option<bool>("--qat") { Description = "Quantization-aware training guided by --teacher before export." };
        var steps = new Option<int>("--steps") { Description = "QAT steps.", DefaultValueFactory = _ => d.QatSteps };
        var lr = new Option<double>("--lr") { Description = "QAT learning rate.", DefaultValueFactory = _ => d.QatLr };
        var ranges = new Option<string>("--learn-ranges") { Description = "QAT activation ranges: ema or lsq.", DefaultValueFactory = _ => d.LearnRanges };
        var teacher = new Option<string>("--teacher") { Description = "Teacher for QAT.", DefaultValueFactory = _ => d.Teacher };
        var tolerance = new Option<double?>("--fallback-tolerance") { Description = "Keep the worst layers in fp32 until the fallback metric drops by at most this fraction (0.01 = 1%)." };
        var metric = new Option<string>("--fallback-metric") { Description = "output-cosine, or TASK.METRIC (e.g. wordnet-retrieval.mrr).", DefaultValueFactory = _ => d.FallbackMetric };
        var corpus = new Option<string>("--corpus") { Description = "Training-side texts for calibration/QAT: sources joined by '+' or a text file.", DefaultValueFactory = _ => d.Corpus };
        var sweep = new Option<bool>("--sweep") { Description = "Measure observers × {PTQ static, PTQ dynamic, QAT} on wordnet-retrieval and spam-f1 (sweep.md/.jsonl)." };
        var observers = new Option<string[]>("--observers") { Description = "Observers of the sweep.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["minmax", "percentile", "mse", "entropy"] };
        var qatObservers = new Option<string[]>("--qat-observers") { Description = "Observers that also get a QAT row in the sweep.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["minmax", "percentile", "mse", "entropy"] };
        var command = new Command("quantize", "Quantize a sentence encoder to INT8 (PTQ or QAT), with a per-layer error report.")
            { model, output, observer, calib, mode, scheme, qat, steps, lr, ranges, teacher, tolerance, metric, corpus, sweep, observers, qatObservers };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            var options = new QuantizeJobOptions(parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(observer)!, parse.GetValue(calib),
                parse.GetValue(mode)!, parse.GetValue(scheme)!, parse.GetValue(qat), parse.GetValue(steps), parse.GetValue(lr), parse.GetValue(ranges)!,
                parse.GetValue(teacher)!, parse.GetValue(tolerance), parse.GetValue(metric)!, parse.GetValue(corpus)!);
            Check(options);
            // An option the chosen mode never reads is an error, as in a config's quantize: section.
            if (options.Mode != "static" && !options.Qat && !parse.GetValue(sweep))
                foreach (var (given, name) in new[] { (parse.GetResult(observer) is { Implicit: false }, "--observer"), (parse.GetResult(calib) is { Implicit: false }, "--calib") })
                    if (given)
                        throw new DistillSharpException($"{name} has no effect with --mode {options.Mode} (activation scales are computed at run time, nothing is calibrated); drop it or use --mode static");
            OutputPath.Folder(options.OutDir, "--out");
            var log = Console.Error;
            var data = RunData.Load(new RunConfig
            {
                Teacher = new TeacherConfig(options.Teacher), Student = new StudentConfig(), Stages = [],
                Data = new DataConfig(options.Corpus, options.MaxLength),
            }, log);
            if (parse.GetValue(sweep))
            {
                var rows = QuantizeSweep.Run(options, Names(parse.GetValue(observers)!), Names(parse.GetValue(qatObservers)!), data.Corpus, data.Eval, QuantizeSweep.Tasks, log);
                Console.WriteLine(QuantizeSweep.ToMarkdown(rows));
                return CommandRunner.Ok;
            }
            using var encoder = ModelLoader.Load(options.Model, options.MaxLength);
            var result = QuantizeJob.Run(options, encoder, data.Corpus, log, TaskMetric(options.FallbackMetric, data.Eval, log));
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "wrote {0}/ ({1} int8 layers, {2} fp32; output rel. error {3:P2}, SQNR {4:F1} dB; size {5:F3} of fp32)",
                options.OutDir, result.Quantized.Layers.Count, result.Fp32Layers.Count, result.OutputRelError, result.OutputSqnrDb, result.SizeRatio));
            return CommandRunner.Ok;
        }));
        return command;
    }

    static void Check(QuantizeJobOptions o)
    {
        if (o.CalibBatches < 1 || o.QatSteps < 1) throw new DistillSharpException($"--calib and --steps must be ≥ 1, got {o.CalibBatches} and {o.QatSteps}");
        _ = QuantizeJob.Config(o);
        if (!QatConfig.RangeMethods.Contains(o.LearnRanges))
            throw new DistillSharpException($"--learn-ranges '{o.LearnRanges}' is not known; use {string.Join(", ", QatConfig.RangeMethods)}");
        if (o.Qat && o.Mode == "dynamic") throw new DistillSharpException("--qat trains static activation ranges; drop --mode dynamic");
        if (o.FallbackTolerance is < 0 or > 1) throw new DistillSharpException($"--fallback-tolerance must be in [0, 1], got {o.FallbackTolerance}");
        if (o.FallbackMetric != "output-cosine" && (o.FallbackMetric.Split('.') is not [var task, _] || !EvalRegistry.Tasks.ContainsKey(task)))
            throw new DistillSharpException($"--fallback-metric '{o.FallbackMetric}' is not known; use output-cosine or TASK.METRIC with TASK one of {string.Join(", ", EvalRegistry.Tasks.Keys)}");
    }

    static string[] Names(string[] observers)
    {
        foreach (string o in observers)
            if (!ObserverRegistry.Contains(o)) throw new DistillSharpException($"unknown observer '{o}'; known observers: {string.Join(", ", ObserverRegistry.Names)}");
        return observers;
    }

    // TASK.METRIC evaluated on the real evaluation data (the measurement texts are not used).
    static Func<Func<IReadOnlyList<string>, float[][]>, IReadOnlyList<string>, double>? TaskMetric(string spec, EvalData data, TextWriter log)
    {
        if (spec == "output-cosine") return null;
        var (task, metric) = (spec.Split('.')[0], spec.Split('.')[1]);
        return (embed, _) =>
        {
            var result = EvalRegistry.Create(task).Run(new EvalContext(embed, data, null, Log: log));
            return result.Metrics.TryGetValue(metric, out var v) ? v
                : throw new DistillSharpException($"task {task} has no metric '{metric}'; it reports {string.Join(", ", result.Metrics.Keys)}");
        };
    }
}
