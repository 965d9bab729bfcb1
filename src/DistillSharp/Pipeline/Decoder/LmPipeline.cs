using System.Diagnostics;
using System.Text.Json;
using DistillSharp.Data;
using DistillSharp.Data.Decoder;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Models.Decoder;
using static TorchSharp.torch;
using DistillSharp.Config.Decoder;
using DistillSharp.Reports.Decoder;
using DistillSharp.Benchmarks.Decoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Distillation;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>What `distill run` / `distill pretrain` was asked besides an LM config.</summary>
/// <param name="OutDir">Run folder; null = the config's <c>output</c>.</param>
/// <param name="MaxSteps">Cap on every training phase (teacher pretraining included).</param>
/// <param name="Progress">Progress with an ETA across phases.</param>
/// <param name="Log">Human-readable messages.</param>
/// <param name="ConfigName">Config name or path, for the report.</param>
/// <param name="CacheRoot">Where pretrained teachers and sparse KD caches live; null = <see cref="CachePaths.Root"/>.</param>
/// <param name="Corpus">Replaces the configured corpus (tests give tiny text); null = fetch and split data.corpus.</param>
/// <param name="Resume">Continue the run in the folder: each training phase from its last checkpoint (a finished phase keeps its
/// final checkpoint until the report is written), everything else recomputed as the uninterrupted run computes it.</param>
public sealed record LmRunOptions(string? OutDir, long? MaxSteps, Action<LmRunProgress>? Progress, TextWriter Log,
    string ConfigName = "lm", string? CacheRoot = null, Func<TextWriter, LmCorpusSplit>? Corpus = null, bool Resume = false);

/// <summary>Where an LM run's outputs are.</summary>
public sealed record LmRunOutcome(string RunDir, string ReportPath, LmReport Report, double Seconds);

/// <summary>
/// The language-model pipeline of a <c>kind: lm</c> config: data → tokenizer → teacher (loaded,
/// cached or pretrained) → sequence-level KD (teacher responses → SFT) → token-level KD → scratch
/// student → evaluation → benchmark → report.json, report.md, plots. Every phase is a library call.
/// </summary>
public static partial class LmPipeline
{
    /// <summary>Positions the models are built for: the longest sequence any phase feeds them.</summary>
    public static int MaxPositions(LmRunConfig c) => new[]
    {
        512, c.Data.Block, (c.SeqKd?.PromptTokens ?? 0) + (c.SeqKd?.NewTokens ?? 0) + 1, c.Bench.PromptTokens + c.Bench.NewTokens + 2,
    }.Max();

    /// <summary>The longest sequence any phase feeds a model (a source teacher's position table must hold it).</summary>
    public static int LongestSequence(LmRunConfig c) => new[]
    {
        c.Data.Block, (c.SeqKd?.PromptTokens ?? 0) + (c.SeqKd?.NewTokens ?? 0), c.Bench.PromptTokens + c.Bench.NewTokens,
    }.Max();

    /// <summary>Runs the whole pipeline; the resolved config is written to the run folder as config.yaml.</summary>
    public static LmRunOutcome Run(LmRunConfig config, LmRunOptions options)
    {
        var clock = Stopwatch.StartNew();
        var log = options.Log;
        string runDir = PrepareRunDir(options.OutDir ?? config.Output, options.OutDir is null ? "output" : "--out", config, options.Resume);
        string cacheRoot = options.CacheRoot ?? CachePaths.Root;
        var phases = new List<LmPhaseReport>();
        var (data, teacherSource, teacherTokenizer) = LoadData(config, options, runDir, phases);
        bool endpoint = config.Teacher.Endpoint is not null;
        string tokenizerHash = LmRunData.FolderHash(Path.Combine(runDir, "tokenizer"));

        string? teacherKey = config.Teacher.Pretrain is null ? null : LmTeacherProvider.PretrainKey(config, options.MaxSteps, data, tokenizerHash);
        bool pretrain = teacherKey is not null && LmTeacherProvider.CachedFolder(cacheRoot, teacherKey) is null;
        var studentConfig = LmPhaseTrainer.ConfigFor(config.Student, data.Tokenizer, MaxPositions(config));
        long studentParams = config.Student.EstimateParams(data.Tokenizer.VocabSize);
        // An endpoint teacher's size is unknown; its phases are weighted as if it were the student's (only the ETA uses it).
        long teacherParams = teacherSource?.Model.ParameterCount ?? config.Teacher.Pretrain?.Shape.EstimateParams(data.Tokenizer.VocabSize) ?? studentParams;
        var tracker = new LmEtaTracker(LmRunPlan.Build(config, options.MaxSteps, pretrain, teacherParams, studentParams), options.Progress);

        if (pretrain) tracker.Begin(LmRunPlan.Pretrain);
        var teacher = endpoint ? null : teacherSource ?? LmTeacherProvider.Pretrained(config, options.MaxSteps, data, cacheRoot, teacherKey!, tracker, log);
        if (pretrain) tracker.End();
        if (teacher?.Phase is { } tp) phases.Add(tp);
        if (teacher is not null) CopyPretrainMetrics(teacher, runDir);
        WriteTeacherPointer(runDir, teacher, config);
        log.WriteLine($"teacher {(teacher is null ? "at " + config.Teacher.Endpoint!.Endpoint : $"{teacher.Model.ParameterCount:N0} parameters")}; "
            + $"student {config.Student.Layers} × {config.Student.Hidden}: {studentParams:N0} (estimated)");

        using var teacherModel = teacher?.Model;
        using var student = LmPhaseTrainer.Create(studentConfig, config.Seed);
        var notes = new List<string>();
        LmSeqKdReport? seqKdReport = null;
        LmKdReport? kdReport = null;
        LmTraceReport? traceReport = null;
        if (teacher is null)
            (seqKdReport, kdReport, traceReport) = RunEndpoint(config, config.SeqKd!, options, runDir, data, teacherTokenizer, student, tracker, phases, notes);
        else
        {
            if (config.SeqKd is { } seqKd) seqKdReport = RunSeqKd(config, seqKd, options, runDir, data, teacher.Model, student, tracker, phases);
            if (config.Kd is { } kd) kdReport = RunTokenKd(config, kd, options, runDir, cacheRoot, data, teacher, student, tracker, phases);
        }
        student.eval();
        DecoderFolder.Save(student, data.Tokenizer, Path.Combine(runDir, "student"));

        CausalLm? scratch = null;
        if (config.Scratch)
        {
            scratch = LmPhaseTrainer.Create(studentConfig, config.Seed);
            var train = LmRunPlan.ScratchTrain(config, options.MaxSteps);
            // As many steps as the student's phases actually ran (an endpoint run may skip kd).
            int studentSteps = (int)Math.Max(1, phases.Where(p => p.Name is LmRunPlan.SeqKd or LmRunPlan.Kd).Sum(p => p.Steps));
            train = train with { Steps = studentSteps, Warmup = Math.Min(train.Warmup, studentSteps) };
            phases.Add(Train(LmRunPlan.Scratch, "pretrain", scratch, data.TrainBatcher(config.Data.Block, train.BatchSize(config.Data), config.Seed),
                train, maxSteps: null, runDir, tracker, log));
            scratch.eval();
            DecoderFolder.Save(scratch, data.Tokenizer, Path.Combine(runDir, "scratch"));
        }

        var models = new List<(string Name, CausalLm Model, string Folder)>();
        if (teacher is not null) models.Add(("teacher", teacher.Model, teacher.Folder));
        models.Add(("student", student, Path.Combine(runDir, "student")));
        if (scratch is not null) models.Add(("scratch", scratch, Path.Combine(runDir, "scratch")));
        var reports = Measure(config, data, models, tracker, phases, log);
        scratch?.Dispose();

        notes.InsertRange(0, new[]
        {
            $"teacher: {(config.Teacher.Endpoint is { } ep ? $"behind the endpoint {ep.Endpoint} (model {ep.Model}); it is not measured here"
                : config.Teacher.Source is { } src ? "loaded from " + src : (teacher!.Phase?.Cached == true ? "reused from the cache " : "pretrained into the cache ") + teacher.Folder)}.",
            "scratch: the student's architecture and initial weights, trained on next-token cross-entropy only for as many steps as the KD student's phases together.",
            "perplexity: exp of the mean next-token NLL over held-out documents (document-level split), blocks of data.block tokens.",
            "rss_delta_bytes: resident-set growth from loading the folder and one batch-1 prefill, after malloc_trim; approximate.",
        });
        if (!DecoderBenchRuntimes.Student.Any()) notes.Add("student_int8: no INT8 decoder runtime is registered (DecoderBenchRuntimes); not measured.");
        else notes.Add("student_int8: the student through the C# INT8 decoder runtime (int8 weights per output channel, dynamic per-token int8 activations, lm_head included); its param_bytes are the bytes the runtime holds (packed int8 weights, scales, norms, int8 embeddings).");
        if (options.MaxSteps is long cap) notes.Add($"--max-steps {cap}: every training phase was capped; numbers are a smoke test, not results.");
        notes.Add($"load average at the end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        var report = new LmReport
        {
            Run = new LmRunInfo(options.ConfigName, DateTime.UtcNow.AddSeconds(-clock.Elapsed.TotalSeconds).ToString("u"), Math.Round(clock.Elapsed.TotalSeconds, 1),
                get_num_threads(), options.MaxSteps, runDir, teacherKey is null ? null : teacher!.Folder),
            Phases = phases,
            Models = reports,
            SeqKd = seqKdReport,
            Kd = kdReport,
            Traces = traceReport,
            Notes = notes,
        };
        string reportPath = WriteReport(runDir, report, phases);
        log.WriteLine($"wrote {reportPath}");
        // Until the report is written a resumed run skips finished phases through their final checkpoints.
        foreach (string name in new[] { LmRunPlan.SeqKd, LmRunPlan.Kd, LmRunPlan.Scratch }) LmPhaseTrainer.DropCheckpoints(Path.Combine(runDir, "phases", name));
        return new LmRunOutcome(runDir, reportPath, report, clock.Elapsed.TotalSeconds);
    }

    static string PrepareRunDir(string dir, string what, LmRunConfig config, bool resume)
    {
        string runDir = OutputPath.Folder(dir, what);
        if (config.Teacher.Source is { } source) LmTeacherProvider.CheckSource(source, LongestSequence(config));
        RunFolder.Open(runDir, config.ToYaml(), resume, File.Exists(Path.Combine(runDir, "report.json")) || Directory.Exists(Path.Combine(runDir, "phases")));
        // Checkpoints are checked before the corpus and the teacher load.
        foreach (var (name, train) in new[] { (LmRunPlan.SeqKd, config.SeqKd?.Train), (LmRunPlan.Kd, config.Kd?.Train), (LmRunPlan.Scratch, (LmTrainConfig?)null) })
            if (resume && DistillCheckpoint.Latest(Path.Combine(runDir, "phases", name)) is { } checkpoint)
                DistillCheckpoint.ReadState(checkpoint, train is null ? null : [train.Steps]);
        return runDir;
    }

    /// <summary>Loads the corpus and the tokenizer (the teacher's, or a new one trained on the training split and saved to tokenizer/).</summary>
    static (LmRunData Data, LmTeacher? SourceTeacher, DecoderTokenizer? TeacherTokenizer) LoadData(LmRunConfig config, LmRunOptions options, string runDir,
        List<LmPhaseReport> phases)
    {
        var log = options.Log;
        var c = PhaseClock.Start();
        var split = options.Corpus?.Invoke(log) ?? LmRunData.LoadSplit(config.Data, log);
        phases.Add(c.Report("data", 1));
        LmTeacher? source = null;
        DecoderTokenizer? teacherTokenizer = null;
        DecoderTokenizer tokenizer;
        c = PhaseClock.Start();
        if (config.Teacher.Source is { } path)
        {
            (source, tokenizer) = LmTeacherProvider.LoadSource(path);
            log.WriteLine($"tokenizer: the teacher's ({tokenizer.VocabSize} ids)");
        }
        else if (config.Teacher.Tokenizer is { } teacherDir)
        {
            string dir = File.Exists(Path.Combine(teacherDir, "tokenizer.json")) ? teacherDir
                : File.Exists(Path.Combine(teacherDir, "tokenizer", "tokenizer.json")) ? Path.Combine(teacherDir, "tokenizer")
                : throw new DistillSharpException($"teacher.tokenizer {teacherDir}: no tokenizer.json there or in its tokenizer/ folder");
            tokenizer = teacherTokenizer = DecoderTokenizer.Load(dir);
            log.WriteLine($"tokenizer: the endpoint teacher's, from {teacherDir} ({tokenizer.VocabSize} ids)");
        }
        else
        {
            tokenizer = LmRunData.TrainTokenizer(split, config.Tokenizer);
            log.WriteLine($"tokenizer: byte-level BPE, {tokenizer.VocabSize} ids, trained on the training split in {c.Seconds:F1} s");
        }
        tokenizer.Save(Path.Combine(runDir, "tokenizer"));
        var data = LmRunData.Encode(split, tokenizer);
        phases.Add(c.Report("tokenizer", 1));
        log.WriteLine($"data: {split.Train.Count} training documents ({data.TrainTokens:N0} tokens), {split.HeldOut.Count} held out ({data.HeldOut.Sum(d => (long)d.Length):N0} tokens)");
        return (data, source, teacherTokenizer);
    }

    static void CopyPretrainMetrics(LmTeacher teacher, string runDir)
    {
        string metrics = Path.Combine(teacher.Folder, "metrics.jsonl");
        if (teacher.Phase is null || !File.Exists(metrics)) return;
        Directory.CreateDirectory(Path.Combine(runDir, "phases", LmRunPlan.Pretrain));
        File.Copy(metrics, Path.Combine(runDir, "phases", LmRunPlan.Pretrain, "metrics.jsonl"), overwrite: true);
    }

    static void WriteTeacherPointer(string runDir, LmTeacher? teacher, LmRunConfig config) =>
        AtomicFile.WriteText(Path.Combine(runDir, "teacher.json"), JsonSerializer.Serialize(teacher is null
            ? new Dictionary<string, object?>
            {
                ["endpoint"] = config.Teacher.Endpoint!.Endpoint,
                ["model"] = config.Teacher.Endpoint.Model,
                ["identity"] = config.Teacher.Endpoint.Identity,
                ["source"] = "endpoint",
            }
            : new Dictionary<string, object?>
            {
                ["folder"] = teacher.Folder,
                ["identity"] = teacher.Identity,
                ["source"] = config.Teacher.Source is null ? "pretrain" : "source",
                ["params"] = teacher.Model.ParameterCount,
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>One training phase in runDir/phases/NAME (metrics.jsonl; checkpoints removed when done).</summary>
    static LmPhaseReport Train(string name, string objective, CausalLm model, ILmBatchSource source, LmTrainConfig train, long? maxSteps,
        string runDir, LmEtaTracker tracker, TextWriter log, Func<LmTrainerOptions, LmTrainerOptions>? adjust = null,
        Func<Tensor, Tensor, Tensor>? teacher = null, SparseTeacherCache? cache = null)
    {
        string dir = Path.Combine(runDir, "phases", name);
        var clock = PhaseClock.Start();
        tracker.Begin(name);
        log.WriteLine($"== {name}: {LmPhaseTrainer.CappedSteps(train, maxSteps)} steps");
        var options = LmPhaseTrainer.Options(objective, train, maxSteps, dir, tracker);
        var result = new LmTrainer(model, LmPhaseTrainer.Logits(model), source, adjust?.Invoke(options) ?? options, teacher, cache).Run();
        tracker.End();
        return clock.Report(name, result.GlobalStep, result.LastLoss);
    }
}
