using System.Diagnostics;
using DistillSharp.Config;
using DistillSharp.Config.Classifier;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Evaluation.Classifier;
using DistillSharp.Export.Classifier;
using DistillSharp.Models.Classifier;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Quantization.Classifier;
using DistillSharp.Reports.Classifier;
using DistillSharp.Reports.Decoder;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Formats;
using static TorchSharp.torch;

namespace DistillSharp.Pipeline.Classifier;

/// <summary>What `distill run` of a classify config was asked besides the config.</summary>
/// <param name="OutDir">Run folder; null = the config's <c>output</c>.</param>
/// <param name="MaxSteps">Cap on each training phase's optimizer steps (a smoke run).</param>
/// <param name="Log">Progress messages.</param>
/// <param name="ConfigName">Config name or path, for the report.</param>
/// <param name="CacheRoot">Root of the teacher and teacher-output caches; null = <see cref="CachePaths.Root"/>.</param>
/// <param name="Progress">Training progress of the current phase.</param>
public sealed record ClassifyRunOptions(string? OutDir, long? MaxSteps, TextWriter Log, string ConfigName = "classify",
    string? CacheRoot = null, Action<string, TrainingProgress>? Progress = null);

/// <summary>Where a classification run's outputs are.</summary>
public sealed record ClassifyRunOutcome(string RunDir, string ReportPath, double Seconds);

/// <summary>
/// The classification pipeline: data (seeded stratified split, leakage check) → teacher (given, or
/// fine-tuned and cached) → student distilled in the config's stages (teacher outputs, logits
/// included, through the teacher-output cache) → baseline_ce (same architecture and initialisation,
/// CE only, same steps) → INT8 quantization and ONNX export → test-set quality of every variant →
/// batch-1 latency and batch-N throughput measured side by side → report.json, report.md, plots.
/// </summary>
public static partial class ClassifyPipeline
{
    /// <summary>Runs <paramref name="config"/>; the resolved config is written to the run folder as config.yaml.</summary>
    public static ClassifyRunOutcome Run(ClassifyRunConfig config, ClassifyRunOptions options)
    {
        var clock = Stopwatch.StartNew();
        var log = options.Log;
        string runDir = Path.GetFullPath(options.OutDir ?? config.Output);
        if (File.Exists(Path.Combine(runDir, "report.json")) || Directory.Exists(Path.Combine(runDir, "checkpoints")))
            throw new DistillSharpException($"{runDir} already holds a run; choose another --out");
        Directory.CreateDirectory(runDir);
        AtomicFile.WriteText(Path.Combine(runDir, "config.yaml"), ConfigWriter.Write(config));
        string cacheRoot = options.CacheRoot ?? CachePaths.Root;
        var quantizeConfig = config.QuantizeSection();
        var phases = new List<LmPhaseReport>();
        string started = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");

        log.WriteLine("== data");
        var data = ClassifyRunData.Load(config.Data, log);
        log.WriteLine("== teacher");
        var teacher = ClassifierTeacherProvider.Get(config, data, options.MaxSteps, cacheRoot, log, p => options.Progress?.Invoke("finetune", p));
        using var teacherModel = teacher.Model;
        if (teacher.Phase is { } ft) phases.Add(ft);

        var spec = config.Student.ToSpec(config.Dropout);
        using var student = NewStudent(config, teacher.Model, spec, "student");
        using var baseline = config.Baseline ? NewStudent(config, teacher.Model, spec, "baseline_ce") : null;
        log.WriteLine($"teacher {Params(teacher.Model)} parameters; student {spec.Layers} layers × {student.Config.Encoder.HiddenSize}: {Params(student)}");

        log.WriteLine("== distill");
        var distiller = new Distiller(config.StudentPlan(), teacher.Model, student, data.Student.Texts,
            new DistillerOptions(runDir, options.MaxSteps, CacheRoot: Path.Combine(cacheRoot, "teacher-cache"), ActivationStatsEvery: 0,
                Progress: p => options.Progress?.Invoke("distill", p)), data.Student.Labels);
        var phaseClock = PhaseClock.Start();
        var distilled = distiller.Run();
        phases.Add(phaseClock.Report("distill", distilled.GlobalStep, distilled.LastLoss));
        student.Model.eval();
        string studentDir = Path.Combine(runDir, "student");
        ClassifierFolder.Save(student, studentDir);

        if (baseline is not null)
        {
            log.WriteLine("== baseline_ce");
            phaseClock = PhaseClock.Start();
            var trained = new Distiller(config.BaselinePlan(distiller.StageSteps), null, baseline, data.Labelled.Texts,
                new DistillerOptions(Path.Combine(runDir, ClassifyReportGenerator.BaselineFolder), options.MaxSteps, ActivationStatsEvery: 0,
                    Progress: p => options.Progress?.Invoke("baseline_ce", p)), data.Labelled.Labels).Run();
            phases.Add(phaseClock.Report("baseline_ce", trained.GlobalStep, trained.LastLoss));
            baseline.Model.eval();
        }

        log.WriteLine("== quantize and export");
        phaseClock = PhaseClock.Start();
        int threads = get_num_threads();
        var calibration = data.Labelled.Texts.Take(quantizeConfig.CalibBatches * 16).ToList();
        var quantized = ClassifierQuantizer.Quantize(student, quantizeConfig, calibration);
        string int8Dir = Path.Combine(runDir, Int8EncoderFile.RunSubfolder);
        using var int8 = ClassifierToRuntime.Build(student, quantized, new Int8EncoderOptions(threads));
        int8.Save(int8Dir);
        string fp32Onnx = Path.Combine(runDir, "student.onnx"), int8Onnx = Path.Combine(runDir, "student-int8.onnx");
        ClassifierOnnxExporter.ExportFp32(student, fp32Onnx);
        ClassifierOnnxExporter.ExportInt8(student, quantized, int8Onnx);
        using var ortFp32 = new OnnxRuntimeClassifier(File.ReadAllBytes(fp32Onnx), threads);
        using var ortInt8 = new OnnxRuntimeClassifier(File.ReadAllBytes(int8Onnx), threads);
        phases.Add(phaseClock.Report("quantize_export", 0));

        int classes = data.Split.Labels.Count;
        var tokenizer = student.Tokenizer;
        var variants = new List<ClassifierVariant>
        {
            Torch("teacher", teacher.Model, FolderBytes(teacher.Folder), teacher.Folder),
            Torch("student", student, FolderBytes(studentDir), "student"),
            new("student_int8", "distillsharp-int8", t => int8.Probabilities(t), int8.Runner(), Params(student), Int8EncoderFile.Bytes(int8Dir), Int8EncoderFile.RunSubfolder),
            new("student_onnxruntime", "onnxruntime-fp32", t => ortFp32.Probabilities(t, tokenizer, classes), ortFp32.RunDiscard, Params(student),
                new FileInfo(fp32Onnx).Length, "student.onnx"),
            new("student_int8_onnxruntime", "onnxruntime-int8", t => ortInt8.Probabilities(t, tokenizer, classes), ortInt8.RunDiscard, Params(student),
                new FileInfo(int8Onnx).Length, "student-int8.onnx"),
        };
        if (baseline is not null) variants.Add(Torch("baseline_ce", baseline, null, null));

        log.WriteLine("== evaluate (test)");
        var scores = new Dictionary<string, ClassifierScore>();
        var testTexts = data.TestTexts;
        var evalCache = new EvalCache(Path.Combine(cacheRoot, "eval-cache"));
        foreach (var v in variants)
        {
            phaseClock = PhaseClock.Start();
            // The frozen teacher's probabilities come from the evaluation cache when its weights and the test texts are unchanged.
            bool cached = false;
            var probabilities = v.Name == "teacher"
                ? ClassifierEvalCache.Probabilities(evalCache, ClassifierEvalCache.Key(teacher.Model, v.Runtime, testTexts), testTexts.Count, classes,
                    () => v.Probabilities(testTexts), log, out cached)
                : v.Probabilities(testTexts);
            scores[v.Name] = ClassifierEvaluation.Score(probabilities, data.TestLabels, data.Split.Labels);
            phases.Add(phaseClock.Report("evaluate " + v.Name, 0) with { Cached = cached });
            log.WriteLine($"{v.Name}: accuracy {scores[v.Name].Accuracy:F4}, macro-F1 {scores[v.Name].MacroF1:F4}, ECE {scores[v.Name].Ece:F4}{(cached ? " (probabilities from the evaluation cache)" : "")}");
        }

        log.WriteLine("== bench (side by side)");
        phaseClock = PhaseClock.Start();
        var timed = variants.Where(v => v.Name != "baseline_ce").ToList();
        int batchN = config.Bench.Batches.Max();
        var speed = ClassifierVariants.Bench(timed, tokenizer, config.Bench.Seq, batchN, config.Bench.Runs);
        phases.Add(phaseClock.Report("bench", 0));

        var paired = baseline is null ? null : ClassifierEvaluation.PairedMacroF1(scores["student"], scores["baseline_ce"]);
        var notes = new List<string>
        {
            $"teacher: {(config.Teacher.Source is { } s ? $"the given classifier {s}" : $"{config.Teacher.Base} fine-tuned with CE on the labelled training texts{(teacher.Phase?.Cached == true ? " (from the cache)" : "")}")}; folder {teacher.Folder}.",
            $"student: {spec.Layers} layers initialised from the {(config.StudentFrom == "teacher" ? "fine-tuned teacher" : "base encoder")} (layers {string.Join(", ", config.Student.TeacherLayers ?? [])}); " +
            $"distilled on {data.Student.Texts.Count:N0} texts ({data.Student.LabelledCount:N0} labelled); teacher outputs: {distilled.CacheHits:N0} cache hits, {distilled.CacheMisses:N0} computed.",
            baseline is null ? "baseline_ce: not trained (baseline: false)." : "baseline_ce: the student's architecture and initialisation, CE on the labelled training texts only, the same optimizer steps, batch and schedule, no teacher.",
            "student_int8: our C# INT8 runtime (int8 weights per channel, activations per token at run time, the head included); the _onnxruntime rows run the exported student.onnx and student-int8.onnx.",
        };
        if (options.MaxSteps is long cap) notes.Add($"--max-steps {cap}: every training phase stopped after at most {cap} optimizer steps (a smoke run, not the recipe).");
        var report = new ClassifyReport
        {
            Run = new ClassifyRunInfo(options.ConfigName, started, Math.Round(clock.Elapsed.TotalSeconds, 1), threads, options.MaxSteps, runDir, LoadAverage()),
            Data = data.Report(config.Data.Source, tokenizer, []),
            Phases = phases,
            Variants = variants.ToDictionary(v => v.Name, v => ClassifierVariants.Report(v, scores[v.Name], speed.TryGetValue(v.Name, out var sp) ? sp : null)),
            StudentVsBaseline = paired is null ? null : new PairedDifferenceReport("student", "baseline_ce", paired.Difference, paired.Low, paired.High),
            BenchMethod = $"batch 1 and batch {batchN} × {config.Bench.Seq} tokens, {config.Bench.Runs} interleaved rounds (each round runs every variant once, " +
                          $"so a change of machine load hits all alike), {threads} thread(s) for every runtime.",
            Notes = notes,
        };
        string reportPath = Path.Combine(runDir, "report.json");
        report.Save(reportPath);
        var written = ClassifyReportGenerator.Generate(runDir);
        foreach (string path in written.Written) log.WriteLine($"wrote {path}");
        foreach (string warning in written.Warnings) log.WriteLine($"warning: {warning}");
        return new ClassifyRunOutcome(runDir, reportPath, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// A student (or the baseline: the same seed gives the same weights) from the base encoder with a
    /// fresh head, or from the fine-tuned teacher (its layers and its head), as <c>student.from</c> says.
    /// </summary>
    public static SequenceClassifier NewStudent(ClassifyRunConfig config, SequenceClassifier teacher, Models.Encoder.StudentSpec spec, string name)
    {
        if (config.StudentFrom == "teacher") return ClassifierBuilder.Student(teacher, spec, config.Seed, name);
        using var encoder = ModelLoader.Load(config.Teacher.Base ?? throw new DistillSharpException("student_from: base needs teacher.base"), config.Data.MaxLen);
        using var start = ClassifierBuilder.FromEncoder(encoder, teacher.Labels, config.Seed, config.Dropout);
        return ClassifierBuilder.Student(start, spec, config.Seed, name);
    }

    static ClassifierVariant Torch(string name, SequenceClassifier model, long? bytes, string? folder) =>
        new(name, "torchsharp-fp32", t => model.Probabilities(t, 64), model.Runner(), Params(model), bytes, folder);

    static long Params(SequenceClassifier c) => c.Model.parameters().Sum(p => p.numel());

    static long? FolderBytes(string dir) => Directory.Exists(dir)
        ? new DirectoryInfo(dir).EnumerateFiles("*.safetensors", SearchOption.TopDirectoryOnly).Sum(f => f.Length) : null;

    static string? LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
}
