using System.Diagnostics;
using DistillSharp.Data;
using DistillSharp.Diagnostics;
using static TorchSharp.torch;

namespace DistillSharp.Distillation;

/// <summary>
/// The one training loop of every model family. For each stage it asks the
/// <see cref="ITrainingObjective"/> for the parameters that train, steps AdamW (no decay on vectors)
/// under a warm-up + decay schedule over accumulated micro-batches, clips the gradient norm, skips
/// non-finite steps with a message (<see cref="OptimizerStep"/>), writes metrics.jsonl
/// (<see cref="MetricsLog"/>) and atomic checkpoints (<see cref="DistillCheckpoint"/>: model, the
/// loss terms' own parameters, optimizer moments, RNG, data position) from which
/// <see cref="TrainerOptions.Resume"/> continues bit-identically, and reports progress.
/// </summary>
public sealed class Trainer
{
    readonly IReadOnlyList<TrainingStage> _stages;
    readonly ITrainingObjective _objective;
    readonly TrainerOptions _options;

    public Trainer(IReadOnlyList<TrainingStage> stages, ITrainingObjective objective, TrainerOptions options)
    {
        if (stages.Count == 0) throw new DistillSharpException("a training run needs at least one stage");
        if (options.Resume && options.RunDir is null) throw new DistillSharpException("resume needs a run folder");
        _stages = stages;
        _objective = objective;
        _options = options;
    }

    /// <summary>Runs (or resumes) every stage; returns when done or when <see cref="TrainerOptions.MaxSteps"/> is reached.</summary>
    public TrainingResult Run()
    {
        var clock = Stopwatch.StartNew();
        var state = new TrainingState(0, 0, 0, 0, 0, 0);
        string? checkpoint = _options.Resume ? DistillCheckpoint.Latest(_options.RunDir!) : null;
        if (_options.Resume && checkpoint is null)
            throw new DistillSharpException($"{_options.RunDir}: --resume given but there is no checkpoint to resume from");
        if (checkpoint != null)
        {
            state = DistillCheckpoint.ReadState(checkpoint, _stages.Select(st => st.Steps).ToList());
            _objective.BeforeResume(state);
            DistillCheckpoint.LoadStudent(checkpoint, _objective.Model);
        }
        long totalSteps = _stages.Sum(s => (long)s.Steps);
        using var log = _options.RunDir is null ? null
            : new MetricsLog(Path.Combine(_options.RunDir, "metrics.jsonl"), checkpoint != null ? state.GlobalStep : 0);
        long tokens = 0;
        double lastLoss = double.NaN;

        for (int s = state.Stage; s < _stages.Count; s++)
        {
            var stage = _stages[s];
            bool resumingThisStage = checkpoint != null && s == state.Stage;
            int startStep = resumingThisStage ? state.StageStep : 0;
            if (startStep >= stage.Steps)
            {
                // A finished stage is skipped, but what follows must see the generator it left behind.
                if (resumingThisStage) DistillCheckpoint.LoadRng(checkpoint!);
                continue;
            }
            if (_options.MaxSteps is long cap && state.GlobalStep >= cap) break;

            var plan = _objective.BeginStage(s, resumingThisStage ? new DataPosition(state.Epoch, state.Batch) : null);
            using var optimizer = OptimizerStep.CreateAdamW(plan.Parameters, stage.Optimizer);
            if (resumingThisStage) DistillCheckpoint.LoadTraining(checkpoint!, plan.Modules, optimizer);
            var parameters = plan.Parameters.ToList();
            var stepClock = Stopwatch.StartNew();
            int doneThisRun = 0;
            var guard = new OptimizerStep { Skipped = state.SkippedSteps };
            for (int step = startStep; step < stage.Steps; step++)
            {
                // Also collects the wrappers TorchSharp makes around p.grad in clipping and zero_grad.
                using var iterationScope = NewDisposeScope();
                if (_options.MaxSteps is long max && state.GlobalStep >= max) break;
                _objective.BeforeStep(step);
                double lr = LearningRateSchedule.At(stage.Schedule, stage.Optimizer.Lr, step, stage.Steps);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                var stepStart = Stopwatch.GetTimestamp();
                bool wantStats = _options.ActivationStatsEvery > 0 && (state.GlobalStep + 1) % _options.ActivationStatsEvery == 0;
                var (loss, terms, stepTokens, finite, stats) = Accumulate(stage, wantStats);
                var (gradNorm, _) = guard.Apply(optimizer, parameters, stage.ClipGradNorm, loss, finite, $"stage '{stage.Name}' step {step + 1}",
                    $"lower the learning rate ({stage.LrKey} = {stage.Optimizer.Lr}) or set clip_grad_norm");
                optimizer.zero_grad();
                if (_options.TrimNativeMemoryEvery > 0 && (state.GlobalStep + 1) % _options.TrimNativeMemoryEvery == 0) NativeMemory.Trim();
                double seconds = Stopwatch.GetElapsedTime(stepStart).TotalSeconds;
                var position = _objective.Position;
                state = new TrainingState(state.GlobalStep + 1, s, step + 1, position.Epoch, position.Batch, guard.Skipped);
                doneThisRun++;
                tokens += stepTokens;
                lastLoss = loss;

                bool last = step + 1 == stage.Steps || _options.MaxSteps is long m && state.GlobalStep >= m;
                if (log != null && (state.GlobalStep % Math.Max(1, stage.LogEvery) == 0 || last || stats != null))
                {
                    var record = new Dictionary<string, object?>
                    {
                        ["step"] = state.GlobalStep, ["stage"] = stage.Name, ["stage_step"] = step + 1,
                        ["loss"] = loss, ["lr"] = lr, ["grad_norm"] = gradNorm,
                        ["tokens_per_s"] = stepTokens / Math.Max(seconds, 1e-9), ["step_s"] = seconds,
                        ["epoch"] = state.Epoch, ["skipped"] = guard.Skipped,
                    };
                    foreach (var (k, v) in terms) record["loss/" + k] = v;
                    if (stats != null) foreach (var (k, v) in stats) record[k] = v;
                    log.Write(record);
                }
                if (_options.RunDir != null && (stage.CheckpointEvery > 0 && (step + 1) % stage.CheckpointEvery == 0 || last))
                    DistillCheckpoint.Save(_options.RunDir, state, _objective.Model, plan.Modules, optimizer);

                double perStep = stepClock.Elapsed.TotalSeconds / doneThisRun;
                long remaining = totalSteps - state.GlobalStep;
                if (_options.MaxSteps is long cap2) remaining = Math.Min(remaining, cap2 - state.GlobalStep);
                _options.Progress?.Invoke(new TrainingProgress(stage.Name, s, step + 1, stage.Steps, state.GlobalStep,
                    _options.MaxSteps is long c3 ? Math.Min(c3, totalSteps) : totalSteps, loss, perStep, remaining * perStep));
            }
            _objective.EndStage();
        }
        bool completed = state.GlobalStep >= totalSteps;
        string? artifact = _objective.Finish(completed, _options.RunDir);
        var (hits, misses) = _objective.Cache;
        return new TrainingResult(state.GlobalStep, completed, state.SkippedSteps, clock.Elapsed.TotalSeconds, lastLoss, tokens,
            hits, misses, artifact);
    }

    (double Loss, Dictionary<string, double> Terms, long Tokens, bool Finite, IReadOnlyDictionary<string, double>? Stats) Accumulate(
        TrainingStage stage, bool wantStats)
    {
        double total = 0;
        long tokens = 0;
        var terms = new Dictionary<string, double>();
        IReadOnlyDictionary<string, double>? stats = null;
        _objective.Model.train();
        for (int micro = 0; micro < stage.Accumulate; micro++)
        {
            using var scope = NewDisposeScope();
            var batch = _objective.NextMicroBatch(wantStats && micro == 0);
            tokens += batch.Tokens;
            foreach (var (k, v) in batch.Terms) terms[k] = terms.GetValueOrDefault(k) + v / stage.Accumulate;
            double value = batch.Loss.item<float>();
            total += value / stage.Accumulate;
            if (!double.IsFinite(value)) return (value, terms, tokens, false, null);
            (batch.Loss / stage.Accumulate).backward();
            stats ??= batch.ActivationStats;
        }
        return (total, terms, tokens, true, stats);
    }
}
