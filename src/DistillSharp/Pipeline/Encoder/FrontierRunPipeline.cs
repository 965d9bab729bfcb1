using System.Diagnostics;
using DistillSharp.Benchmarks;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Evaluation.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Models.Static;
using DistillSharp.Reports.Encoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Static;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// `distill run` with a <c>students:</c> list: data → teacher (loaded and evaluated once; its
/// distillation outputs shared through the teacher-output cache, its eval embeddings memoized) →
/// every student in turn, each into <c>students/NAME/</c> with the rows a single student gets
/// (<see cref="TransformerStudentRun"/>; static students as <see cref="StaticRunPipeline"/> builds
/// them) → the frontier (quality vs batch-1 p50, non-dominated points) → <c>select:</c> copies the
/// chosen student to <c>student/</c>, or deploys nothing when no row passes → report.json.
/// docs/REPORTS.md: frontier.
/// </summary>
public static class FrontierRunPipeline
{
    /// <summary>The folder under the run folder that holds one sub-folder per student.</summary>
    public const string StudentsFolder = "students";

    /// <summary>Runs a multi-student config.</summary>
    public static RunOutcome Run(RunConfig config, RunOptions options)
    {
        var students = config.Students ?? throw new DistillSharpException("FrontierRunPipeline runs configs with a students: list");
        var clock = Stopwatch.StartNew();
        var log = options.Log;
        string runDir = "";
        foreach (var s in students) runDir = RunPreflight.Check(config.ForStudent(s), options);
        string Dir(NamedStudent s) => Path.Combine(runDir, StudentsFolder, s.Name);
        RunFolder.Open(runDir, config.ToYaml(), options.Resume,
            File.Exists(Path.Combine(runDir, ReportGenerator.ReportFile)) || students.Any(s => DistillCheckpoint.Latest(Dir(s)) != null));

        var slots = students.ToDictionary(s => s.Name, s => new StudentSlot(s.Name, Dir(s), Single: false));
        var eta = new RunEta(["data", "evaluate teacher", .. students.SelectMany(s => s.Student.IsStatic
            ? [slots[s.Name].Phase("build static"), slots[s.Name].Phase("evaluate static")] : slots[s.Name].Phases), SideBySidePhase]);
        foreach (var s in students.Where(s => !s.Student.IsStatic)) RunPipeline.EstimateStudent(eta, slots[s.Name], "evaluate teacher");
        using var phases = new RunPhases(eta, options);

        RunData data = null!;
        phases.Run("data", () => data = RunData.Load(config, log));
        using var teacher = ModelLoader.Load(config.Teacher.Source, config.Data.MaxLen);
        CheckWidths(config, teacher.Model.Config.HiddenSize);
        var variants = new Dictionary<string, VariantMeasurement>();
        using var evaluation = new RunEvaluation(teacher, TorchSharp.torch.get_num_threads());
        var teacherEmbed = evaluation.TeacherEmbed;
        phases.Run("evaluate teacher", () => variants["teacher"] = RunPipeline.Measure(teacher, teacherEmbed, null, RunPipeline.TeacherFileBytes(config), config, data.Eval, log,
            evaluation.TeacherCaching));
        var context = new RunContext(options, data, teacher, evaluation, phases);

        var rows = new List<(string Variant, NamedStudent Student)>();
        var distills = new List<(string Name, TrainingResult Result)>();
        foreach (var s in students)
        {
            var own = config.ForStudent(s);
            var slot = slots[s.Name];
            if (s.Student.IsStatic)
            {
                Directory.CreateDirectory(slot.Dir);
                StaticStudent built = null!;
                phases.Run(slot.Phase("build static"), () => built = StaticRunPipeline.Build(own, teacher, slot.Dir, log, data.Corpus, data.Eval, evaluation));
                phases.Run(slot.Phase("evaluate static"), () => variants[s.Name] = StaticRunPipeline.Measure(built, s.Name, own, teacherEmbed, data.Eval, slot.Dir, log));
                rows.Add((s.Name, s));
            }
            else
            {
                bool resume = TransformerStudentRun.CanResume(slot.Dir, own, options);
                distills.Add((s.Name, TransformerStudentRun.Run(context, own, slot, resume, variants)));
                rows.Add((slot.Name, s));
                rows.Add((slot.Int8, s));
            }
        }
        phases.Run(SideBySidePhase, () => TimeSideBySide(config, teacher, rows, slots, variants, evaluation.Threads, log));
        phases.Dispose();

        var frontier = Frontier(config, variants, rows);
        var selection = frontier.Selection;
        Deploy(runDir, selection?.Deployed is { } chosen ? students.First(s => s.Name == chosen) : null, Dir);
        if (selection is not null) log.WriteLine($"selection: {selection.Reason}");

        var notes = new List<string>
        {
            $"students: {string.Join(", ", students.Select(s => $"{s.Name} ({Describe(s.Student)})"))}; each in {StudentsFolder}/NAME/ with rows NAME, NAME_int8, NAME_baseline, NAME_onnxruntime, NAME_int8_onnxruntime (a static student: one row NAME).",
            "NAME_baseline: that student's architecture with the same initialisation, not trained by the teacher.",
            $"speed of the frontier's rows (teacher, every NAME and NAME_int8): measured again at the end, side by side in one interleaved pass (phase '{SideBySidePhase}'), " +
            "so the frontier and select: compare rows timed under the same conditions; the baseline and ONNX Runtime rows keep the speed of their students' own phases.",
        };
        foreach (var (name, d) in distills)
            notes.Add($"{name}: {d.GlobalStep} steps in {d.Seconds:F1} s, teacher-output cache {d.CacheHits:N0} hits / {d.CacheMisses:N0} misses" +
                      (d.Completed ? "" : " (stopped at --max-steps; continue with --resume)"));
        notes.Add(selection?.Reason ?? "no select: section, so no student was deployed to student/; every student is in students/NAME/.");
        notes.Add(evaluation.Note);
        notes.Add($"phases (s): {string.Join(", ", eta.Actual.Select(kv => $"{kv.Key} {kv.Value:F1}"))}");
        notes.Add($"load average at the end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        var trained = students.Where(s => !s.Student.IsStatic).Select(s => (slots[s.Name].Name, slots[s.Name].Baseline)).ToList();
        var report = RunReportBuilder.Build(options.ConfigName, variants, null, clock.Elapsed.TotalSeconds, notes, students: trained, phases: eta.Actual) with
        {
            Distillation = distills.Count == 0 ? null : new DistillationSummary
            {
                Steps = distills.Sum(d => d.Result.GlobalStep), Completed = distills.All(d => d.Result.Completed),
                SkippedSteps = distills.Sum(d => d.Result.SkippedSteps), Seconds = Math.Round(distills.Sum(d => d.Result.Seconds), 1),
                CacheHits = distills.Sum(d => d.Result.CacheHits), CacheMisses = distills.Sum(d => d.Result.CacheMisses),
            },
            Frontier = frontier,
        };
        string reportPath = Path.Combine(runDir, ReportGenerator.ReportFile);
        RunReportJson.Save(report, reportPath);
        var written = ReportGenerator.Generate(runDir);
        foreach (string path in written.Written) log.WriteLine($"wrote {path}");
        foreach (string warning in written.Warnings) log.WriteLine($"warning: {warning}");
        return new RunOutcome(runDir, reportPath, distills.All(d => d.Result.Completed), clock.Elapsed.TotalSeconds);
    }

    /// <summary>The phase that times the frontier's rows side by side.</summary>
    public const string SideBySidePhase = "bench side by side";

    /// <summary>
    /// Batch-1 latency and batch-N throughput of the teacher and of every student row of the frontier,
    /// measured again in one interleaved pass (one call of each per round, as <c>LatencyBenchmark.RunInterleaved</c> times them),
    /// replacing the speeds their own phases measured minutes apart: load and clock changes between
    /// phases reorder rows that differ by less than they do. Students are reloaded from the files the run wrote.
    /// </summary>
    static void TimeSideBySide(RunConfig config, SentenceEncoder teacher, IReadOnlyList<(string Variant, NamedStudent Student)> rows,
        IReadOnlyDictionary<string, StudentSlot> slots, IDictionary<string, VariantMeasurement> variants, int threads, TextWriter log)
    {
        var owned = new List<IDisposable>();
        try
        {
            var calls = new List<(string Name, Action<TokenBatch> Run)> { ("teacher", EncoderSpeed.TorchForward(teacher)) };
            foreach (var (variant, named) in rows)
            {
                var slot = slots[named.Name];
                if (named.Student.IsStatic)
                    calls.Add((variant, StaticEncoderFile.Load(Path.Combine(slot.Dir, StaticEncoderFile.RunSubfolder), config.Data.MaxLen).Runner()));
                else if (variant == slot.Name)
                {
                    var encoder = ModelLoader.Load(slot.HfDir, config.Data.MaxLen);
                    owned.Add(encoder);
                    calls.Add((variant, EncoderSpeed.TorchForward(encoder)));
                }
                else
                {
                    var int8 = Int8Encoder.Load(slot.Int8Dir, new Int8EncoderOptions(threads), config.Data.MaxLen);
                    owned.Add(int8);
                    calls.Add((variant, int8.Runner()));
                }
            }
            var bench = config.Bench;
            int batchN = bench.Batches.Max();
            var one = EncoderSpeed.FullBatch(teacher.Tokenizer, 1, bench.Seq);
            var many = EncoderSpeed.FullBatch(teacher.Tokenizer, batchN, bench.Seq);
            log.WriteLine($"timing {calls.Count} rows side by side: {bench.Runs} interleaved rounds at batch 1, {Math.Max(5, bench.Runs / 10)} at batch {batchN}");
            var b1 = LatencyBenchmark.RunInterleaved(calls.Select(c => (c.Name, (Action)(() => c.Run(one)))).ToList(), 1, bench.Seq,
                new BenchOptions(Warmup: 5, Runs: bench.Runs, MaxSeconds: 300));
            var bn = LatencyBenchmark.RunInterleaved(calls.Select(c => (c.Name, (Action)(() => c.Run(many)))).ToList(), batchN, bench.Seq,
                new BenchOptions(Warmup: 2, Runs: Math.Max(5, bench.Runs / 10), MaxSeconds: 300));
            for (int i = 0; i < calls.Count; i++)
                variants[calls[i].Name] = variants[calls[i].Name] with { Batch1 = b1[i], Batch32 = bn[i] };
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>
    /// The frontier of measured rows: quality = R@10 of the first retrieval task in <c>eval:</c>,
    /// the teacher and every student row (fp32 and INT8) as points, non-dominated ones marked, and
    /// the selection among the student rows when the config has <c>select:</c>.
    /// </summary>
    public static FrontierReport Frontier(RunConfig config, IReadOnlyDictionary<string, VariantMeasurement> variants,
        IReadOnlyList<(string Variant, NamedStudent Student)> rows)
    {
        string? task = config.Eval.FirstOrDefault(RunConfig.IsRetrievalTask)?.Replace('-', '_');
        double? Quality(string v) => task is not null && variants[v].Quality.TryGetValue(task, out var m) && m.TryGetValue("r10", out var q) ? q : null;
        double? teacherQuality = Quality("teacher");
        var all = new List<(string Variant, string? Student)> { ("teacher", null) };
        all.AddRange(rows.Select(r => (r.Variant, (string?)r.Student.Name)));
        var points = all.Select(r => new FrontierPoint
        {
            Variant = r.Variant, Student = r.Student, Quality = Round(Quality(r.Variant)),
            QualityRatio = Round(Quality(r.Variant) / teacherQuality), P50Ms = variants[r.Variant].Batch1 is { } b ? Math.Round(b.P50Ms, 4) : null,
            FileBytes = variants[r.Variant].FileBytes,
        }).ToList();
        var measured = points.Where(p => p.Quality is not null && p.P50Ms is not null).ToList();
        var front = StudentSelector.ParetoFront(measured.Select(p => (p.P50Ms!.Value, p.Quality!.Value)).ToList());
        points = points.Select(p => measured.IndexOf(p) is var i && i >= 0 ? p with { Pareto = front[i] } : p).ToList();

        string metric = task is null ? "(no retrieval task)" : $"{task}.r10";
        SelectionReport? selection = null;
        if (config.Select is { } select)
        {
            var candidates = measured.Where(p => p.Student is not null && p.QualityRatio is not null)
                .Select(p => new Candidate(p.Variant, p.Student!, p.Quality!.Value, p.QualityRatio!.Value, p.P50Ms!.Value, p.FileBytes)).ToList();
            var s = StudentSelector.Select(select, candidates, metric);
            selection = new SelectionReport
            {
                Constraint = select.Key, Value = select.Value, Passed = s.Passed.Select(c => c.Variant).ToList(),
                Chosen = s.Chosen?.Variant, Deployed = s.Chosen?.Student, Reason = s.Reason,
            };
        }
        return new FrontierReport { Metric = metric, Points = points, Selection = selection };
    }

    /// <summary>
    /// Copies the chosen student's deployable files to the run folder's top level, where a
    /// single-student run writes them (<c>student/</c>, <c>student-int8/</c>, <c>student.onnx</c>,
    /// <c>student-int8.onnx</c>; a static student's table folder becomes <c>student/</c> and its graph
    /// <c>student.onnx</c>). Stale copies from an earlier attempt are removed first, so with no choice
    /// nothing is deployed.
    /// </summary>
    static void Deploy(string runDir, NamedStudent? chosen, Func<NamedStudent, string> dirOf)
    {
        (string From, string To)[] files = chosen is { Student.IsStatic: true }
            ? [(StaticEncoderFile.RunSubfolder, "student"), (StaticRunPipeline.OnnxFile, "student.onnx")]
            : [("student", "student"), ("student-int8", "student-int8"), ("student.onnx", "student.onnx"), ("student-int8.onnx", "student-int8.onnx")];
        foreach (string stale in new[] { "student", "student-int8", "student.onnx", "student-int8.onnx" }.Select(f => Path.Combine(runDir, f)))
        {
            if (Directory.Exists(stale)) Directory.Delete(stale, recursive: true);
            else if (File.Exists(stale)) File.Delete(stale);
        }
        if (chosen is null) return;
        foreach (var (from, to) in files) Copy(Path.Combine(dirOf(chosen), from), Path.Combine(runDir, to));
    }

    static void Copy(string from, string to)
    {
        if (File.Exists(from))
        {
            File.Copy(from, to, overwrite: true);
            return;
        }
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>Tasks that compare a student's embeddings with the teacher's need its width: a narrower student is refused before any training.</summary>
    static void CheckWidths(RunConfig config, int teacherWidth)
    {
        var needsWidth = config.Eval.Where(EvaluationNeedsTeacherWidth).ToList();
        if (needsWidth.Count == 0) return;
        for (int i = 0; i < config.Students!.Count; i++)
            if (config.Students[i].Student is { IsStatic: false, Hidden: var h } && h != teacherWidth)
                throw new DistillSharpException($"students[{i}].student.hidden {h}: eval task(s) {string.Join(", ", needsWidth)} compare embeddings with the teacher's ({teacherWidth} dimensions); " +
                                                "drop them from eval: or give this student the teacher's width");
    }

    static bool EvaluationNeedsTeacherWidth(string task) => task is AgreementTask.TaskName or IndexCompatibilityTask.TaskName;

    static string Describe(StudentConfig s) => s.IsStatic ? $"static, {s.Dims} dims" : $"{s.Layers} × {s.Hidden}, init {s.Init}";

    static double? Round(double? v) => v is double x && double.IsFinite(x) ? Math.Round(x, 5) : null;
}
