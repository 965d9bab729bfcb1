using System.Diagnostics;
using DistillSharp.Config.Encoder;
using DistillSharp.Diagnostics;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder;

/// <summary>How a <see cref="Distiller"/> runs, besides the config.</summary>
/// <param name="RunDir">The run folder (checkpoints/, metrics.jsonl).</param>
/// <param name="MaxSteps">Stop cleanly after this many optimizer steps in total (a checkpoint is written).</param>
/// <param name="Resume">Continue from the run folder's latest checkpoint.</param>
/// <param name="CacheRoot">Teacher-output cache folder; null = no cache.</param>
/// <param name="ActivationStatsEvery">Log per-layer activation statistics every N steps (0 = never).</param>
/// <param name="Progress">Called after every optimizer step.</param>
/// <param name="TrimNativeMemoryEvery">Return freed native memory to the OS (<see cref="NativeMemory.Trim"/>) every N steps
/// (0 = never); without it glibc lets the resident set grow although no tensor leaks.</param>
public sealed record DistillerOptions(string RunDir, long? MaxSteps = null, bool Resume = false, string? CacheRoot = null,
    int ActivationStatsEvery = 50, Action<DistillProgress>? Progress = null, int TrimNativeMemoryEvery = 50);

/// <summary>Progress after a step: enough for a progress bar with an ETA across all stages.</summary>
public sealed record DistillProgress(string Stage, int StageIndex, int StageStep, int StageSteps, long GlobalStep, long TotalSteps,
    double Loss, double SecondsPerStep, double EtaSeconds);

/// <summary>What a run did; <paramref name="QatExport"/> is the quantized model file a completed QAT stage wrote (<see cref="QatSession.ExportPath"/>).</summary>
public sealed record DistillResult(long GlobalStep, bool Completed, int SkippedSteps, double Seconds, long CacheHits, long CacheMisses,
    string? QatExport = null);

/// <summary>
/// Runs the stages of a config: each stage sums its weighted loss terms, trains the student
/// parameters the stage selects (progressive distillation) with AdamW under a warm-up + decay
/// schedule, accumulates micro-batches, clips gradients, skips non-finite steps with a message,
/// logs metrics and writes atomic checkpoints from which <see cref="DistillerOptions.Resume"/>
/// continues exactly (data order, optimizer moments, RNG, loss-term projections).
/// </summary>
public sealed class Distiller
{
    readonly RunConfig _config;
    readonly SentenceEncoder _teacher;
    readonly SentenceEncoder _student;
    readonly IReadOnlyList<string> _corpus;
    readonly DistillerOptions _options;

    public Distiller(RunConfig config, SentenceEncoder teacher, SentenceEncoder student, IReadOnlyList<string> corpus, DistillerOptions options)
    {
        _config = config;
        _teacher = teacher;
        _student = student;
        _corpus = corpus;
        _options = options;
    }

    /// <summary>Optimizer steps of a stage: its steps, or epochs × batches per epoch / accumulate (rounded up).</summary>
    public int StageSteps(StageConfig stage)
    {
        if (stage.Steps is int steps) return steps;
        int batches = (_corpus.Count + stage.BatchSize(_config.Data) - 1) / stage.BatchSize(_config.Data);
        return Math.Max(1, (stage.Epochs ?? 1) * batches / stage.Accumulate);
    }

    /// <summary>Runs (or resumes) the whole schedule; returns when done or when MaxSteps is reached.
    /// A stage with <c>qat:</c> trains fake-quantized and, when it completes, exports the quantized model;
    /// the student always comes back with plain Linears.</summary>
    public DistillResult Run()
    {
        QatSession? qat = null;
        try
        {
            return RunStages(ref qat);
        }
        finally
        {
            qat?.Dispose();
        }
    }

    DistillResult RunStages(ref QatSession? qat)
    {
        var clock = Stopwatch.StartNew();
        var state = new TrainingState(0, 0, 0, 0, 0, 0);
        string? checkpoint = _options.Resume ? DistillCheckpoint.Latest(_options.RunDir) : null;
        if (_options.Resume && checkpoint is null)
            throw new DistillSharpException($"{_options.RunDir}: --resume given but there is no checkpoint to resume from");
        if (checkpoint != null)
        {
            state = DistillCheckpoint.ReadState(checkpoint);
            // A checkpoint taken inside a QAT stage holds the fake-quant state (ranges, LSQ scales): swap first.
            if (state.Stage < _config.Stages.Count && _config.Stages[state.Stage].Qat is { } resumedQat && state.StageStep > 0)
                qat = QatSession.Start(_student, resumedQat, QuantizeSection(), null, 0);
            DistillCheckpoint.LoadStudent(checkpoint, _student.Model);
        }
        long totalSteps = _config.Stages.Sum(StageSteps);
        using var log = new MetricsLog(Path.Combine(_options.RunDir, "metrics.jsonl"), checkpoint != null ? state.GlobalStep : 0);
        long hits = 0, misses = 0;
        _teacher.Model.eval();
        _student.Model.CheckpointActivations = _config.CheckpointActivations;

        for (int s = state.Stage; s < _config.Stages.Count; s++)
        {
            var stage = _config.Stages[s];
            int stageSteps = StageSteps(stage);
            bool resumingThisStage = checkpoint != null && s == state.Stage;
            int startStep = resumingThisStage ? state.StageStep : 0;
            if (startStep >= stageSteps) continue;
            if (_options.MaxSteps is long cap && state.GlobalStep >= cap) break;

            if (stage.Qat is { } qatConfig && qat is null)
                qat = QatSession.Start(_student, qatConfig, QuantizeSection(),
                    _corpus.Take(qatConfig.CalibBatches * stage.BatchSize(_config.Data)).ToList(), stage.BatchSize(_config.Data));
            var context = new LossContext(Shape(_student), Shape(_teacher));
            var terms = stage.Losses.Where(l => l.Weight > 0).Select(l => (Spec: l, Term: LossRegistry.Create(l, context))).ToList();
            var termModules = terms.Where(t => t.Term is nn.Module).ToDictionary(t => t.Spec.Name, t => (nn.Module)t.Term);
            var needs = TeacherNeeds.Of(terms.Select(t => t.Term));
            bool qkv = needs.Queries.Count + needs.Keys.Count + needs.Values.Count > 0;
            var trainable = SelectTrainable(stage);
            var optimizer = CreateOptimizer(stage, trainable, terms.SelectMany(t => t.Term.Parameters()).ToList());
            var batcher = new TextBatcher(_corpus, _teacher.Tokenizer, stage.BatchSize(_config.Data), _config.Seed + s,
                resumingThisStage ? new BatcherPosition(state.Epoch, state.Batch) : null);
            if (resumingThisStage) DistillCheckpoint.LoadTraining(checkpoint!, termModules, optimizer);
            using var cache = _options.CacheRoot is null ? null : new TeacherCache(_options.CacheRoot,
                TeacherCache.Key(TeacherCache.WeightsIdentity(_teacher.Model), _corpus, _teacher.Tokenizer, needs),
                needs, _teacher.Model.Config.NumHiddenLayers, _teacher.Model.Config.HiddenSize, _teacher.Model.Config.NumAttentionHeads);

            var allParams = trainable.Concat(terms.SelectMany(t => t.Term.Parameters())).ToList();
            var stepClock = Stopwatch.StartNew();
            int doneThisRun = 0;
            var guard = new OptimizerStep { Skipped = state.SkippedSteps };
            for (int step = startStep; step < stageSteps; step++)
            {
                // Also collects the wrappers TorchSharp makes around p.grad in clipping and zero_grad.
                using var iterationScope = NewDisposeScope();
                if (_options.MaxSteps is long max && state.GlobalStep >= max) break;
                qat?.BeforeStep(step);
                double lr = LearningRateSchedule.At(stage.Schedule, stage.Optimizer.Lr, step, stageSteps);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                var stepStart = Stopwatch.GetTimestamp();
                var (loss, scalars, tokens, finite, stats) = AccumulateStep(stage, terms, batcher, cache, qkv,
                    wantStats: _options.ActivationStatsEvery > 0 && (state.GlobalStep + 1) % _options.ActivationStatsEvery == 0);
                var (gradNorm, _) = guard.Apply(optimizer, allParams, stage.ClipGradNorm, loss, finite, $"stage '{stage.Name}' step {step + 1}",
                    $"lower the learning rate (stages[{s}].optimizer.lr = {stage.Optimizer.Lr}) or set clip_grad_norm");
                int skipped = guard.Skipped;
                optimizer.zero_grad();
                if (_options.TrimNativeMemoryEvery > 0 && (state.GlobalStep + 1) % _options.TrimNativeMemoryEvery == 0) NativeMemory.Trim();
                double seconds = Stopwatch.GetElapsedTime(stepStart).TotalSeconds;
                state = new TrainingState(state.GlobalStep + 1, s, step + 1, batcher.Position.Epoch, batcher.Position.Batch, skipped);
                doneThisRun++;

                bool last = step + 1 == stageSteps || _options.MaxSteps is long m && state.GlobalStep >= m;
                if ((state.GlobalStep % Math.Max(1, stage.LogEvery) == 0) || last || stats != null)
                {
                    var record = new Dictionary<string, object?>
                    {
                        ["step"] = state.GlobalStep, ["stage"] = stage.Name, ["stage_step"] = step + 1,
                        ["loss"] = loss, ["lr"] = lr, ["grad_norm"] = gradNorm,
                        ["tokens_per_s"] = tokens / Math.Max(seconds, 1e-9), ["step_s"] = seconds,
                        ["epoch"] = state.Epoch, ["skipped"] = skipped,
                    };
                    foreach (var (k, v) in scalars) record["loss/" + k] = v;
                    if (stats != null) foreach (var (k, v) in stats) record[k] = v;
                    log.Write(record);
                }
                if (stage.CheckpointEvery > 0 && (step + 1) % stage.CheckpointEvery == 0 || last)
                    DistillCheckpoint.Save(_options.RunDir, state, _student.Model, termModules, optimizer);

                double perStep = stepClock.Elapsed.TotalSeconds / doneThisRun;
                long remaining = totalSteps - state.GlobalStep;
                if (_options.MaxSteps is long cap2) remaining = Math.Min(remaining, cap2 - state.GlobalStep);
                _options.Progress?.Invoke(new DistillProgress(stage.Name, s, step + 1, stageSteps, state.GlobalStep,
                    _options.MaxSteps is long c3 ? Math.Min(c3, totalSteps) : totalSteps, loss, perStep, remaining * perStep));
            }
            hits += cache?.Hits ?? 0;
            misses += cache?.Misses ?? 0;
            foreach (var t in termModules.Values) t.Dispose();
            optimizer.Dispose();
        }
        bool completed = state.GlobalStep >= totalSteps;
        string? export = null;
        if (qat is not null && completed)
            qat.Export(export = QatSession.ExportPath(_options.RunDir));
        return new DistillResult(state.GlobalStep, completed, state.SkippedSteps, clock.Elapsed.TotalSeconds, hits, misses, export);
    }

    (double Loss, Dictionary<string, double> Scalars, long Tokens, bool Finite, Dictionary<string, double>? Stats) AccumulateStep(
        StageConfig stage, List<(LossSpec Spec, ILossTerm Term)> terms, TextBatcher batcher, TeacherCache? cache, bool qkv, bool wantStats)
    {
        double total = 0;
        long tokens = 0;
        var scalars = new Dictionary<string, double>();
        Dictionary<string, double>? stats = null;
        _student.Model.train();
        for (int micro = 0; micro < stage.Accumulate; micro++)
        {
            using var scope = NewDisposeScope();
            var batch = batcher.Next();
            tokens += batch.Tokens.RealTokens;
            var mask = tensor(batch.Tokens.AttentionMask);
            ModelOutput teacherOut;
            using (no_grad())
            {
                teacherOut = cache is null
                    ? _teacher.Forward(batch.Tokens, qkv)
                    : cache.Get(batch, mask, () => _teacher.Forward(batch.Tokens, qkv));
            }
            var studentOut = _student.Forward(batch.Tokens, qkv);
            var lossBatch = new LossBatch { AttentionMask = studentOut.AttentionMask };
            Tensor? sum = null;
            foreach (var (spec, term) in terms)
            {
                LossResult result;
                Tensor weighted;
                using (var termScope = NewDisposeScope())
                {
                    // Frees the term's temporaries now (autograd keeps what backward needs); with
                    // attention losses they are many (B, heads, T, T) tensors.
                    result = term.Compute(studentOut, teacherOut, lossBatch);
                    weighted = (result.Loss * spec.Weight).MoveToOuterDisposeScope();
                }
                sum = sum is null ? weighted : sum + weighted;
                foreach (var (k, v) in result.Scalars) scalars[k] = scalars.GetValueOrDefault(k) + v / stage.Accumulate;
            }
            double value = sum!.item<float>();
            total += value / stage.Accumulate;
            if (!double.IsFinite(value)) return (value, scalars, tokens, false, null);
            (sum / stage.Accumulate).backward();
            if (wantStats && micro == 0) stats = ActivationStats(studentOut);
        }
        return (total, scalars, tokens, true, stats);
    }

    /// <summary>Per-layer mean, std and max |x| of the student's hidden states over real tokens.</summary>
    static Dictionary<string, double> ActivationStats(ModelOutput output)
    {
        using var noGrad = no_grad();
        var stats = new Dictionary<string, double>();
        using var mask = output.AttentionMask.to_type(ScalarType.Bool);
        for (int l = 0; l < output.HiddenStates.Count; l++)
        {
            using var real = output.HiddenStates[l][mask];
            stats[$"act/{l}/mean"] = real.mean().item<float>();
            stats[$"act/{l}/std"] = real.std().item<float>();
            stats[$"act/{l}/absmax"] = real.abs().max().item<float>();
        }
        return stats;
    }

    List<Parameter> SelectTrainable(StageConfig stage)
    {
        var trainable = new List<Parameter>();
        foreach (var (name, p) in _student.Model.named_parameters())
        {
            bool trains = stage.TrainLayers.Trains(name);
            p.requires_grad = trains;
            if (trains) trainable.Add(p);
        }
        if (trainable.Count == 0)
            throw new DistillSharpException($"stage '{stage.Name}': train_layers {stage.TrainLayers} selects no student parameter");
        return trainable;
    }

    static AdamW CreateOptimizer(StageConfig stage, List<Parameter> student, List<Parameter> termParams) =>
        OptimizerStep.CreateAdamW(student.Concat(termParams), stage.Optimizer);

    QuantizeConfig QuantizeSection() => _config.QuantizeSection();

    static ModelShape Shape(SentenceEncoder e) =>
        new(e.Model.Config.NumHiddenLayers, e.Model.Config.HiddenSize, e.Model.Config.NumAttentionHeads, e.Tokenizer.MaxLength);
}
