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
        if (config.Students is not null) return FrontierRunPipeline.Run(config, options);
        if (config.Student.IsStatic) return StaticRunPipeline.Run(config, options);
        var clock = Stopwatch.StartNew();
        var log = options.Log;
        string runDir = RunPreflight.Check(config, options);
        RunFolder.Open(runDir, config.ToYaml(), options.Resume, DistillCheckpoint.Latest(runDir) != null);
        // A run killed before its first checkpoint resumes from step 0. A checkpoint is checked now, not after the data
        // loads (against the stages' steps when the config gives steps; stages given in epochs are sized by the corpus).
        bool resume = TransformerStudentRun.CanResume(runDir, config, options);
        var slot = new StudentSlot("student", runDir, Single: true);
        var eta = new RunEta(["data", "evaluate teacher", .. slot.Phases]);
        EstimateStudent(eta, slot, "evaluate teacher");
        using var phases = new RunPhases(eta, options);

        RunData data = null!;
        phases.Run("data", () => data = RunData.Load(config, log));
        using var teacher = ModelLoader.Load(config.Teacher.Source, config.Data.MaxLen);
        var variants = new Dictionary<string, VariantMeasurement>();
        // Evaluation embeds through the fastest exact engine (EvalEngines.Default); results of an unchanged
        // model on unchanged data come from the evaluation cache (the teacher and the baseline: once per machine).
        using var evaluation = new RunEvaluation(teacher, get_num_threads());

        // The teacher is evaluated first: its evaluation time is what the later evaluations are
        // estimated from (they run the same tasks on the same texts).
        phases.Run("evaluate teacher", () => variants["teacher"] = Measure(teacher, evaluation.TeacherEmbed, null, TeacherFileBytes(config), config, data.Eval, log, evaluation.TeacherCaching));
        var distill = TransformerStudentRun.Run(new RunContext(options, data, teacher, evaluation, phases), config, slot, resume, variants);
        phases.Dispose();

        var notes = new List<string>
        {
            "baseline: the student architecture with the same initialisation, not trained by the teacher.",
            evaluation.Note,
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
    internal static void EstimateStudent(RunEta eta, StudentSlot slot, string reference)
    {
        eta.Estimate(slot.Phase("evaluate baseline"), () => eta.Measured(reference));
        eta.Estimate(slot.Phase("evaluate student"), () => eta.Measured(slot.Phase("evaluate baseline")) ?? eta.Measured(reference));
        eta.Estimate(slot.Phase("quantize"), () => 0.6 * eta.Measured(reference));
        eta.Estimate(slot.Phase("evaluate onnxruntime"), () => 1.0 * eta.Measured(reference));
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

    internal static long? DirBytes(string dir) => Directory.Exists(dir)
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
