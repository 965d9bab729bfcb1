using System.Diagnostics;
using DistillSharp.Benchmarks;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Config.Encoder;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Models.Static;
using DistillSharp.Reports.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Static;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// `distill run` with <c>student: { kind: static }</c>: data → teacher (evaluated and benchmarked as
/// in every run) → the static student built from the teacher (<see cref="StaticStudentBuilder"/>,
/// timed) → saved to <c>student-static/</c> → the same evaluation tasks and benchmark rows →
/// report.json. The batch-1 latency ratio to the teacher is measured side by side (alternating calls
/// in one process), so machine load hits both alike. docs/STATIC.md.
/// </summary>
public static class StaticRunPipeline
{
    /// <summary>Report key of the static student.</summary>
    public const string Variant = "student_static";

    /// <summary>The exported ONNX graph in the run folder (<see cref="StaticOnnxExporter"/>).</summary>
    public const string OnnxFile = "student-static.onnx";

    /// <summary>The issue's targets: ≥ 85% of the teacher's R@10, ≥ 100× lower batch-1 latency, built in ≤ 2 minutes.</summary>
    public const double MinR10Ratio = 0.85, MaxLatencyRatio = 0.01, MaxBuildSeconds = 120;

    /// <summary>Runs a static-student config.</summary>
    public static RunOutcome Run(RunConfig config, RunOptions options)
    {
        if (!config.Student.IsStatic) throw new DistillSharpException("StaticRunPipeline runs configs with student.kind: static");
        var clock = Stopwatch.StartNew();
        var log = options.Log;
        string runDir = Path.GetFullPath(options.OutDir ?? config.Output);
        if (File.Exists(Path.Combine(runDir, "report.json")) && !options.Resume)
            throw new DistillSharpException($"{runDir} already holds a run; use --out to start a new one");
        Directory.CreateDirectory(runDir);
        AtomicFile.WriteText(Path.Combine(runDir, "config.yaml"), config.ToYaml());
        var phases = new List<(string Name, double Seconds)>();
        T Phase<T>(string name, Func<T> action)
        {
            log.WriteLine($"== {name}");
            options.RunProgress?.Invoke(new RunProgress(name, "", clock.Elapsed.TotalSeconds, null));
            var phaseClock = Stopwatch.StartNew();
            var result = action();
            phases.Add((name, phaseClock.Elapsed.TotalSeconds));
            return result;
        }

        // Only a trained table needs the distillation corpus; the untrained build reads the evaluation data alone.
        var (eval, corpus) = Phase("data", () =>
        {
            if (config.Student.Train is not null) { var d = RunData.Load(config, log); return (d.Eval, d.Corpus); }
            var e = EvalData.Real(log); _ = e.WordNet; _ = e.Mails; return (e, (IReadOnlyList<string>)[]);
        });
        using var teacher = ModelLoader.Load(config.Teacher.Source, config.Data.MaxLen);
        using var evaluation = new RunEvaluation(teacher, TorchSharp.torch.get_num_threads());
        var teacherEmbed = evaluation.TeacherEmbed;
        var variants = new Dictionary<string, VariantMeasurement>();
        variants["teacher"] = Phase("evaluate teacher", () =>
            RunPipeline.Measure(teacher, teacherEmbed, null, RunPipeline.TeacherFileBytes(config), config, eval, log, evaluation.TeacherCaching));

        var options8 = config.Student.ToStaticOptions(config.Data.MaxLen);
        var built = Phase("build static", () => Build(config, teacher, runDir, log, corpus, eval, evaluation));
        var student = built.Encoder;

        var bench = config.Bench;
        BenchResult? sideTeacher = null, sideStatic = null;
        variants[Variant] = Phase("evaluate static", () =>
        {
            var row = Measure(built, Variant, config, teacherEmbed, eval, runDir, log);
            var one = EncoderSpeed.FullBatch(teacher.Tokenizer, 1, bench.Seq);
            var teacherRun = EncoderSpeed.TorchForward(teacher);
            var staticRun = student.Runner();
            (sideTeacher, sideStatic) = LatencyBenchmark.RunInterleaved("teacher", () => teacherRun(one), Variant, () => staticRun(one),
                1, bench.Seq, new BenchOptions(Warmup: 5, Runs: bench.Runs));
            return row;
        });
        var textLatency = TextLatency(student, teacher, bench.Seq, bench.Runs);

        double? r10Ratio = Ratio(variants[Variant].Quality, variants["teacher"].Quality, "wordnet_retrieval", "r10");
        double latencyRatio = sideStatic!.P50Ms / sideTeacher!.P50Ms;
        var targets = new List<TargetResult>
        {
            new() { Name = $"{Variant} R@10 / teacher", Goal = MinR10Ratio, Measured = r10Ratio is double r ? Math.Round(r, 4) : null },
            new() { Name = $"{Variant} batch-1 latency / teacher (side by side)", Goal = MaxLatencyRatio, Comparison = TargetComparison.AtMost, Unit = "×",
                Measured = Math.Round(latencyRatio, 5), Note = $"{1 / latencyRatio:F0}× faster; p50 teacher {sideTeacher.P50Ms:F3} ms, static {sideStatic.P50Ms * 1000:F1} µs, alternating calls, {bench.Runs} each" },
            new() { Name = $"{Variant} build time", Goal = MaxBuildSeconds, Comparison = TargetComparison.AtMost, Unit = "s", Measured = Math.Round(built.Seconds, 1) },
        };
        var notes = new List<string>
        {
            $"{Variant}: Model2Vec-style static student (every vocabulary token through the teacher, PCA {teacher.Model.Config.HiddenSize} → {options8.Dims} " +
            $"keeping {built.Pca.ExplainedVariance:P1} of the variance, SIF/Zipf weighting a = {options8.SifCoefficient:G3}, int8 rows); built in {built.Seconds:F1} s; " +
            "inference = tokenizer + table lookup + mean (no TorchSharp). Its agreement compares the teacher with the static embeddings mapped back through the PCA basis.",
            $"side-by-side batch-1 latency on one {bench.Seq}-token sequence: teacher p50 {sideTeacher.P50Ms:F3} ms, {Variant} p50 {sideStatic.P50Ms * 1000:F2} µs " +
            $"({sideTeacher.P50Ms / sideStatic.P50Ms:F0}×); text → embedding including tokenization: teacher {textLatency.Teacher:F3} ms, {Variant} {textLatency.Static * 1000:F1} µs " +
            $"({textLatency.Teacher / textLatency.Static:F0}×)",
            $"phases (s): {string.Join(", ", phases.Select(p => $"{p.Name} {p.Seconds:F1}"))}",
            $"load average at the end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}",
        };
        if (built.Training is { } tr)
            notes.Insert(1, $"{Variant} trained on the corpus (student.train): {tr.Texts:N0} texts embedded by the teacher in {tr.TargetSeconds:F1} s " +
                $"({tr.CachedTargets:N0} from the cache), {tr.Steps} steps in {tr.TrainSeconds:F1} s, 1 − cos to the teacher {tr.LossBefore:F4} → {tr.LossAfter:F4}; " +
                "the PCA is fitted on the teacher's sentence embeddings of those texts.");
        var report = RunReportBuilder.Build(options.ConfigName, variants, null, clock.Elapsed.TotalSeconds, notes, targets);
        string reportPath = Path.Combine(runDir, "report.json");
        RunReportJson.Save(report, reportPath);
        var written = ReportGenerator.Generate(runDir);
        foreach (string path in written.Written) log.WriteLine($"wrote {path}");
        foreach (string warning in written.Warnings) log.WriteLine($"warning: {warning}");
        return new RunOutcome(runDir, reportPath, true, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Builds the static student of <paramref name="config"/> from the teacher and writes it to <c>dir/student-static/</c> and <c>dir/student-static.onnx</c>.</summary>
    /// <remarks>With <c>student.train</c>, the table is trained on <paramref name="corpus"/> against the teacher's
    /// embeddings from <paramref name="evaluation"/>'s engine (<see cref="StaticTraining"/>).</remarks>
    internal static StaticStudent Build(RunConfig config, SentenceEncoder teacher, string dir, TextWriter log,
        IReadOnlyList<string> corpus, EvalData eval, RunEvaluation evaluation)
    {
        var options = config.Student.ToStaticOptions(config.Data.MaxLen);
        var built = options.Train is null ? StaticStudentBuilder.Build(teacher, options, log)
            : StaticTraining.Build(teacher, options, corpus, eval, evaluation.TeacherEmbed, evaluation.TeacherCaching.Subject, (ulong)config.Seed, log);
        StaticEncoderFile.Save(built.Encoder, Path.Combine(dir, StaticEncoderFile.RunSubfolder), built.BuildInfo(teacher.Source, options));
        long onnxBytes = StaticOnnxExporter.Export(built.Encoder, Path.Combine(dir, OnnxFile));
        log.WriteLine($"wrote {Path.Combine(dir, OnnxFile)} ({onnxBytes:N0} bytes)");
        return built;
    }

    /// <summary>
    /// The static student's report row: the eval tasks on its embeddings (agreement = the teacher vs the
    /// static embeddings mapped back through the PCA basis) and the benchmark of its table-lookup runner.
    /// </summary>
    internal static VariantMeasurement Measure(StaticStudent built, string name, RunConfig config, Func<IReadOnlyList<string>, float[][]> teacherEmbed,
        EvalData eval, string dir, TextWriter log)
    {
        var student = built.Encoder;
        var tasks = config.Eval.Where(t => t != AgreementTask.TaskName).ToList();
        var quality = VariantMeasurer.Quality(t => student.Embed(t), tasks, eval, null, log);
        if (config.Eval.Contains(AgreementTask.TaskName))
        {
            var texts = AgreementTask.HeldOutTexts(eval.WordNet, eval.Mails);
            quality["agreement"] = AgreementTask.Evaluate(texts, built.TeacherSpaceEmbed, teacherEmbed).Metrics;
        }
        var bench = config.Bench;
        var (b1, bn) = EncoderSpeed.Measure(name, student.Runner(), student.Tokenizer, bench.Seq, bench.Batches.Max(), bench.Runs);
        return new VariantMeasurement(student.Table.Rows * (long)student.Dimensions, StaticEncoderFile.Bytes(Path.Combine(dir, StaticEncoderFile.RunSubfolder)),
            quality, b1, bn, "distillsharp-static");
    }

    /// <summary>p50 ms of text → embedding (tokenization included) for both, alternating calls on the benchmark text.</summary>
    static (double Teacher, double Static) TextLatency(StaticEncoder student, SentenceEncoder teacher, int seq, int runs)
    {
        var batch = EncoderSpeed.FullBatch(teacher.Tokenizer, 1, seq);
        string text = teacher.Tokenizer.Decode(Enumerable.Range(1, seq - 2).Select(t => (int)batch.InputIds[0, t]));
        string[] texts = [text];
        var (t, s) = LatencyBenchmark.RunInterleaved("teacher", () => teacher.Embed(texts), Variant, () => student.Embed(texts),
            1, seq, new BenchOptions(Warmup: 5, Runs: runs));
        return (t.P50Ms, s.P50Ms);
    }

    static double? Ratio(IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> a, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> b,
        string task, string metric) =>
        a.TryGetValue(task, out var x) && b.TryGetValue(task, out var y) && x.TryGetValue(metric, out var vx) && y.TryGetValue(metric, out var vy) && vy != 0
            ? vx / vy : null;
}
