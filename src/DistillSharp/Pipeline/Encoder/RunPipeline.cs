using System.Diagnostics;
using DistillSharp.Pipeline;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Distillation;
using DistillSharp.Export.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Reports.Encoder;
using static TorchSharp.torch;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Evaluation;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>What `distill run` was asked besides the config.</summary>
/// <param name="OutDir">Run folder; null = the config's <c>output</c>.</param>
/// <param name="MaxSteps">Stop distillation after this many optimizer steps in total (the rest of the pipeline still runs).</param>
/// <param name="Resume">Continue the run folder's distillation from its last checkpoint.</param>
/// <param name="Progress">Distillation progress callback.</param>
/// <param name="Log">Human-readable progress messages.</param>
/// <param name="ConfigName">Config name or path, for the report.</param>
/// <param name="RunProgress">Whole-run progress (phase, detail, ETA), called at phase changes, distillation steps and every second.</param>
public sealed record RunOptions(string? OutDir, long? MaxSteps, bool Resume, Action<TrainingProgress>? Progress, TextWriter Log, string ConfigName = "default",
    Action<RunProgress>? RunProgress = null);

/// <summary>Where a run's outputs are and whether distillation completed.</summary>
public sealed record RunOutcome(string RunDir, string ReportPath, bool DistillationCompleted, double Seconds);

/// <summary>
/// The whole pipeline of a config: data → teacher → student (and the untaught baseline) →
/// distillation → evaluation → INT8 quantization → export (HF folder, ONNX fp32/INT8) → benchmark →
/// report.json. Every step is a library call; the CLI only renders progress.
/// </summary>
public static class RunPipeline
{
    /// <summary>Runs <paramref name="config"/>; the resolved config is written to the run folder as config.yaml.</summary>
    public static RunOutcome Run(RunConfig config, RunOptions options)
    {
        if (config.Student.IsStatic) return StaticRunPipeline.Run(config, options);
        var clock = Stopwatch.StartNew();
        var log = options.Log;
        string runDir = RunPreflight.Check(config, options);
        RunFolder.Open(runDir, config.ToYaml(), options.Resume, DistillCheckpoint.Latest(runDir) != null);
        // A run killed before its first checkpoint resumes from step 0. A checkpoint is checked now, not after the data
        // loads (against the stages' steps when the config gives steps; stages given in epochs are sized by the corpus).
        var stageSteps = config.Stages.All(s => s.Steps is not null) ? config.Stages.Select(s => s.Steps!.Value).ToList() : null;
        bool resume = options.Resume && DistillCheckpoint.Latest(runDir) is { } checkpoint
            && DistillCheckpoint.ReadState(checkpoint, stageSteps) is not null;
        if (options.Resume && !resume) log.WriteLine($"{runDir}: no checkpoint yet; distilling from step 0");
        var quantizeConfig = QuantizeConfig.FromMap(config.Quantize.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()));
        var eta = NewEta();
        string detail = "";
        void Report() => options.RunProgress?.Invoke(new RunProgress(eta.Current ?? "", detail, eta.Elapsed, eta.Remaining()));
        using var ticker = options.RunProgress is null ? null : new Timer(_ => Report(), null, 1000, 1000);
        void Phase(string name, Action action)
        {
            log.WriteLine($"== {name}");
            eta.Begin(name);
            detail = "";
            Report();
            action();
            eta.End();
        }

        RunData data = null!;
        Phase("data", () => data = RunData.Load(config, log));
        using var teacher = ModelLoader.Load(config.Teacher.Source, config.Data.MaxLen);
        var spec = config.Student.ToSpec(config.Dropout);
        var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, spec, config.Seed), teacher.Tokenizer, teacher.Pooling, teacher.Normalize, "student");
        using var baseline = new SentenceEncoder(StudentBuilder.Build(teacher.Model, spec, config.Seed), teacher.Tokenizer, teacher.Pooling, teacher.Normalize, "baseline");
        log.WriteLine($"teacher {teacher.Source} (distillation forward: {config.Teacher.Engine}): {Params(teacher.Model):N0} parameters; student {spec.Layers} layers × {student.Model.Config.HiddenSize}: {Params(student.Model):N0}");

        var variants = new Dictionary<string, VariantMeasurement>();
        var evalTasks = config.Eval;
        // Every runtime gets the same number of threads as libtorch, so the comparison is fair.
        int threads = get_num_threads();
        // Evaluation embeds through the fastest exact engine (EvalEngines.Default); results of an unchanged
        // model on unchanged data come from the evaluation cache (the teacher and the baseline: once per machine).
        var evalCache = new EvalCache(CachePaths.EvalCache);
        string engine = EvalEngines.Default;
        using var teacherEmbedder = EvalEngines.Create(engine, teacher, threads);
        var teacherEmbed = VariantMeasurer.Memoized(teacherEmbedder.Embed);
        string teacherSubject = EvalSubject.Of(teacher, engine).Key();
        EvalCaching Caching(SentenceEncoder e, bool isTeacher) => new(evalCache, isTeacher ? teacherSubject : EvalSubject.Of(e, engine).Key(), isTeacher ? null : teacherSubject);
        var bench = config.Bench;
        int batchN = bench.Batches.Max();

        // The teacher is evaluated first: its evaluation time is what the later evaluations are
        // estimated from (they run the same tasks on the same texts).
        Phase("evaluate teacher", () => variants["teacher"] = Measure(teacher, teacherEmbed, null, TeacherFileBytes(config), config, data.Eval, log, Caching(teacher, true)));

        TrainingResult distill = null!;
        Phase("distill", () => distill = new Distiller(config.DistillPlan(), teacher, student, data.Corpus, new DistillerOptions(
            runDir, options.MaxSteps, resume, CachePaths.TeacherCache, Progress: p =>
            {
                eta.ReportRemaining(p.EtaSeconds);
                detail = $"{p.Stage} {p.StageStep}/{p.StageSteps} loss {p.Loss:F4}";
                options.Progress?.Invoke(p);
            }, TeacherEngine: (t, outputs) => TeacherEngines.Create(config.Teacher.Engine, t, get_num_threads(), outputs))).Run());
        student.Model.eval();

        string studentDir = Path.Combine(runDir, "student");
        HuggingFaceFolder.Save(student, studentDir);
        using var baselineEmbedder = EvalEngines.Create(engine, baseline, threads);
        Phase("evaluate baseline", () => variants["baseline"] = Measure(baseline, baselineEmbedder.Embed, teacherEmbed, null, config, data.Eval, log, Caching(baseline, false)));
        using var studentEmbedder = EvalEngines.Create(engine, student, threads);
        var studentCaching = Caching(student, false);
        Phase("evaluate student", () => variants["student"] = Measure(student, studentEmbedder.Embed, teacherEmbed, DirBytes(studentDir), config, data.Eval, log, studentCaching));
        string int8OnnxPath = Path.Combine(runDir, "student-int8.onnx"), fp32OnnxPath = Path.Combine(runDir, "student.onnx");
        string? int8OnnxRecipe = null;
        Phase("quantize", () =>
        {
            // A completed QAT stage already exported the model it trained; otherwise post-training quantization.
            QuantizedModel quantized;
            if (distill.Artifact is { } qatFile)
            {
                quantized = QuantizedModelFile.Load(qatFile);
                log.WriteLine($"using the QAT export {qatFile}");
            }
            else
            {
                var calibration = data.Corpus.Take(quantizeConfig.CalibBatches * 16).ToList();
                quantized = EncoderQuantizer.Quantize(student, quantizeConfig, calibration);
            }
            string int8Dir = Path.Combine(runDir, "student-int8");
            using var int8 = EncoderToRuntime.Build(student, quantized, threads);
            int8.Save(int8Dir);
            OnnxExporter.ExportFp32(student, fp32OnnxPath);
            // The ONNX Runtime row runs ORT's own dynamic path (DynamicQuantizeLinear, fused into
            // DynamicQuantizeMatMul): a per-token model exports its per-tensor twin, and the row says so.
            int8OnnxRecipe = OnnxExporter.ExportInt8(student, quantized, int8OnnxPath,
                new OnnxExportOptions(DynamicActivations: quantized.Recipe.Mode == ActivationMode.Dynamic ? OnnxDynamicActivations.OrtPerTensor : OnnxDynamicActivations.Model)).Recipe;
            // Quality of the INT8 student = what our C# INT8 runtime computes.
            var quality = VariantMeasurer.Quality(t => int8.Embed(t), evalTasks, data.Eval, teacherEmbed, log);
            var (b1, bn) = EncoderSpeed.Measure("student_int8", int8.Runner(), student.Tokenizer, bench.Seq, batchN, bench.Runs);
            variants["student_int8"] = new VariantMeasurement(Params(student.Model), Int8EncoderFile.Bytes(int8Dir), quality, b1, bn, "distillsharp-int8",
                quantized.Recipe.Name);
        });
        // The exported files as a user deploys them: task metrics and speed under ONNX Runtime.
        Phase("evaluate onnxruntime", () =>
        {
            foreach (var (name, path, runtime) in new[] { ("student_onnxruntime", fp32OnnxPath, "onnxruntime-fp32"), ("student_int8_onnxruntime", int8OnnxPath, "onnxruntime-int8") })
            {
                using var ort = new OnnxRuntimeEncoder(path, threads: threads);
                // student.onnx is the graph the student's own evaluation ran when that engine is ONNX Runtime: same cache entry.
                var cached = new List<string>();
                var quality = VariantMeasurer.Quality(t => ort.Embed(t, student.Tokenizer, student.Pooling, student.Normalize), evalTasks, data.Eval, teacherEmbed, log,
                    runtime == engine ? studentCaching : null, cached);
                var (b1, bn) = EncoderSpeed.Measure(name, ort.RunDiscard, student.Tokenizer, bench.Seq, batchN, bench.Runs);
                variants[name] = new VariantMeasurement(Params(student.Model), new FileInfo(path).Length, quality, b1, bn, runtime,
                    path == int8OnnxPath ? int8OnnxRecipe : null, cached);
            }
        });
        ticker?.Dispose();

        var notes = new List<string>
        {
            "baseline: the student architecture with the same initialisation, not trained by the teacher.",
            $"teacher, baseline and student task metrics computed by {engine} (speed rows: TorchSharp); a variant's quality_cached lists the tasks read from the evaluation cache ({CachePaths.EvalCache}).",
            "student_int8: our C# INT8 runtime (int8 weights per channel, activations quantized per token at run time); student_onnxruntime and student_int8_onnxruntime: the exported student.onnx and student-int8.onnx run by ONNX Runtime (task metrics computed from ONNX Runtime's outputs).",
            $"phases (s): {string.Join(", ", eta.Actual.Select(kv => $"{kv.Key} {kv.Value:F1}"))}",
            $"load average at the end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}",
        };
        if (eta.FirstFullPrediction is { } first)
            notes.Add($"ETA: at {first.At:F0} s the whole run was predicted to take {first.Total:F0} s; it took {eta.Elapsed:F0} s ({(eta.Elapsed - first.Total) / first.Total:+0.0%;-0.0%})");
        if (!distill.Completed) notes.Add($"distillation stopped at --max-steps after {distill.GlobalStep} steps; continue with --resume");
        var heldOut = RunData.CheckHeldOut(config);
        if (heldOut.Count > 0) notes.Add($"held-out domain: {string.Join(", ", heldOut)} — evaluated (sotu_retrieval) but never in the distillation corpus.");
        var report = RunReportBuilder.Build(options.ConfigName, variants, distill, clock.Elapsed.TotalSeconds, notes, phases: eta.Actual);
        report = report with { Distillation = report.Distillation! with { CorpusTexts = data.TextsPerSource.ToDictionary(), HeldOutDomains = heldOut } };
        string reportPath = Path.Combine(runDir, "report.json");
        RunReportJson.Save(report, reportPath);
        var written = ReportGenerator.Generate(runDir);
        foreach (string path in written.Written) log.WriteLine($"wrote {path}");
        foreach (string warning in written.Warnings) log.WriteLine($"warning: {warning}");
        student.Dispose();
        return new RunOutcome(runDir, reportPath, distill.Completed, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The phases of a run and how each is estimated before it runs: every evaluation runs the same
    /// tasks on the same texts, and measured times are dominated by tokenisation, the tasks' own
    /// work and ONNX/INT8 forward passes that cost less than the teacher's, so each evaluation is
    /// estimated as the teacher's measured evaluation time (the baseline's, once measured, for the
    /// student), and the quantize + ONNX Runtime phases as fixed fractions of it (0.6 and 1.0, from
    /// the default run's measured phase times; the report compares the prediction with the end).
    /// </summary>
    static RunEta NewEta()
    {
        var eta = new RunEta(["data", "evaluate teacher", "distill", "evaluate baseline", "evaluate student", "quantize", "evaluate onnxruntime"]);
        eta.Estimate("evaluate baseline", () => eta.Measured("evaluate teacher"));
        eta.Estimate("evaluate student", () => eta.Measured("evaluate baseline") ?? eta.Measured("evaluate teacher"));
        eta.Estimate("quantize", () => 0.6 * eta.Measured("evaluate teacher"));
        eta.Estimate("evaluate onnxruntime", () => 1.0 * eta.Measured("evaluate teacher"));
        return eta;
    }

    /// <summary>Quality and TorchSharp speed of an encoder (teacher, student, baseline).</summary>
    internal static VariantMeasurement Measure(SentenceEncoder encoder, Func<IReadOnlyList<string>, float[][]> embed,
        Func<IReadOnlyList<string>, float[][]>? teacherEmbed, long? fileBytes, RunConfig config, EvalData eval, TextWriter log, EvalCaching? caching = null)
    {
        var cached = new List<string>();
        var quality = VariantMeasurer.Quality(embed, config.Eval, eval, teacherEmbed, log, caching, cached);
        var (b1, bn) = EncoderSpeed.Measure(encoder.Source, EncoderSpeed.TorchForward(encoder), encoder.Tokenizer,
            config.Bench.Seq, config.Bench.Batches.Max(), config.Bench.Runs);
        return new VariantMeasurement(Params(encoder.Model), fileBytes, quality, b1, bn, "torchsharp-fp32", CachedTasks: cached);
    }

    internal static long Params(nn.Module m) => m.parameters().Sum(p => p.numel());

    static long? DirBytes(string dir) => Directory.Exists(dir)
        ? new DirectoryInfo(dir).EnumerateFiles("*.safetensors", SearchOption.AllDirectories).Sum(f => f.Length) : null;

    internal static long? TeacherFileBytes(RunConfig config)
    {
        string source = config.Teacher.Source;
        if (source.StartsWith("builtin:") || BuiltinTeachers.All.ContainsKey(source))
            return BuiltinTeachers.Get(source).ReadResources().Onnx.LongLength;
        if (File.Exists(source)) return new FileInfo(source).Length;
        return DirBytes(source);
    }
}
