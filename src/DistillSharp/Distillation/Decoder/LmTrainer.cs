using System.Diagnostics;
using DistillSharp.Diagnostics;
using static TorchSharp.torch;
using DistillSharp.Distillation.Decoder.Losses;

namespace DistillSharp.Distillation.Decoder;

/// <summary>
/// Trains a causal language model for N optimizer steps on one objective — next-token CE on packed
/// blocks ("pretrain") or on response tokens ("sft"), or token-level KD against a teacher given as
/// a logits delegate or a sparse cache, optionally mixed with CE ("kd"). AdamW (no decay on
/// vectors) under warm-up + decay, gradient accumulation, clipping and non-finite skipping come from
/// <see cref="OptimizerStep"/> and <see cref="LearningRateSchedule"/>; metrics.jsonl and atomic
/// checkpoints from <see cref="MetricsLog"/> and <see cref="DistillCheckpoint"/> (model, optimizer
/// moments, RNG, data position), so a resumed run continues bit-identically.
/// The model is any module; <c>logits</c> maps (ids, attention mask) (B, T) int64 → (B, T, V).
/// </summary>
public sealed class LmTrainer
{
    readonly nn.Module _model;
    readonly Func<Tensor, Tensor, Tensor> _logits;
    readonly ILmBatchSource _data;
    readonly LmTrainerOptions _options;
    readonly Func<Tensor, Tensor, Tensor>? _teacher;
    readonly SparseTeacherCache? _cache;
    readonly TokenKdLoss? _kd;

    /// <summary>
    /// Sets up a run. For "kd" give <paramref name="teacher"/> (dense logits), <paramref name="teacherCache"/>
    /// (sparse; misses are filled from <paramref name="teacher"/> when given) or both.
    /// </summary>
    public LmTrainer(nn.Module model, Func<Tensor, Tensor, Tensor> logits, ILmBatchSource data, LmTrainerOptions options,
        Func<Tensor, Tensor, Tensor>? teacher = null, SparseTeacherCache? teacherCache = null)
    {
        options.Validate();
        if (options.Objective == "kd")
        {
            if (options.KdWeight > 0 && teacher is null && teacherCache is null)
                throw new DistillSharpException("objective kd needs a teacher (logits delegate) or a sparse teacher cache");
            _kd = TokenKdRegistry.Create(options.Kd);
        }
        _model = model;
        _logits = logits;
        _data = data;
        _options = options;
        _teacher = teacher;
        _cache = teacherCache;
    }

    /// <summary>Runs (or resumes) until Steps or MaxSteps.</summary>
    public LmTrainResult Run()
    {
        var clock = Stopwatch.StartNew();
        var parameters = _model.parameters().Where(p => p.requires_grad).ToList();
        if (parameters.Count == 0) throw new DistillSharpException("the model has no trainable parameter");
        using var optimizer = OptimizerStep.CreateAdamW(parameters, _options.Optimizer);
        var guard = new OptimizerStep();
        long step = 0;
        string? checkpoint = _options.Resume ? DistillCheckpoint.Latest(_options.RunDir!) : null;
        if (_options.Resume && checkpoint is null)
            throw new DistillSharpException($"{_options.RunDir}: resume asked for but there is no checkpoint to resume from");
        var noTerms = new Dictionary<string, nn.Module>();
        if (checkpoint != null)
        {
            var state = DistillCheckpoint.ReadState(checkpoint);
            DistillCheckpoint.LoadStudent(checkpoint, _model);
            DistillCheckpoint.LoadTraining(checkpoint, noTerms, optimizer);
            step = state.GlobalStep;
            guard.Skipped = state.SkippedSteps;
            _data.Position = new LmDataPosition(state.Epoch, state.Batch);
        }
        using var log = _options.RunDir is null ? null : new MetricsLog(Path.Combine(_options.RunDir, "metrics.jsonl"), checkpoint != null ? step : 0);
        long total = _options.MaxSteps is long cap ? Math.Min(cap, _options.Steps) : _options.Steps;
        long hits0 = _cache?.Hits ?? 0, misses0 = _cache?.Misses ?? 0, tokens = 0;
        double lastLoss = double.NaN;
        int done = 0;
        var runClock = Stopwatch.StartNew();
        _model.train();
        while (step < total)
        {
            // Also collects the wrappers TorchSharp makes around p.grad in clipping and zero_grad.
            using var iterationScope = NewDisposeScope();
            double lr = LearningRateSchedule.At(_options.Schedule, _options.Optimizer.Lr, (int)step, _options.Steps);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            long start = Stopwatch.GetTimestamp();
            var (loss, terms, stepTokens, finite) = Accumulate();
            var (gradNorm, _) = guard.Apply(optimizer, parameters, _options.ClipGradNorm, loss, finite, $"{_options.Objective} step {step + 1}",
                $"lower the learning rate (lr = {_options.Optimizer.Lr}) or set clip_grad_norm");
            optimizer.zero_grad();
            step++;
            done++;
            tokens += stepTokens;
            lastLoss = loss;
            if (_options.TrimNativeMemoryEvery > 0 && step % _options.TrimNativeMemoryEvery == 0) NativeMemory.Trim();
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            bool last = step == total;
            if (log != null && (step % _options.LogEvery == 0 || last))
            {
                var record = new Dictionary<string, object?>
                {
                    ["step"] = step, ["stage"] = _options.Objective, ["loss"] = loss, ["lr"] = lr, ["grad_norm"] = gradNorm,
                    ["tokens_per_s"] = stepTokens / Math.Max(seconds, 1e-9), ["step_s"] = seconds,
                    ["epoch"] = _data.Position.Epoch, ["skipped"] = guard.Skipped,
                };
                foreach (var (k, v) in terms) record["loss/" + k] = v;
                log.Write(record);
            }
            if (_options.RunDir != null && (_options.CheckpointEvery > 0 && step % _options.CheckpointEvery == 0 || last))
                DistillCheckpoint.Save(_options.RunDir, new TrainingState(step, 0, (int)step, _data.Position.Epoch, _data.Position.Batch, guard.Skipped),
                    _model, noTerms, optimizer);
            _options.Progress?.Invoke(new LmProgress(step, total, loss, runClock.Elapsed.TotalSeconds / done));
        }
        return new LmTrainResult(step, step >= _options.Steps, guard.Skipped, clock.Elapsed.TotalSeconds, lastLoss, tokens,
            (_cache?.Hits ?? 0) - hits0, (_cache?.Misses ?? 0) - misses0);
    }

    (double Loss, Dictionary<string, double> Terms, long Tokens, bool Finite) Accumulate()
    {
        double total = 0;
        long tokens = 0;
        var terms = new Dictionary<string, double>();
        for (int micro = 0; micro < _options.Accumulate; micro++)
        {
            using var scope = NewDisposeScope();
            var batch = _data.Next();
            tokens += batch.ScoredTokens;
            var ids = batch.InputTensor();
            var attention = batch.AttentionTensor();
            var mask = batch.LossMaskTensor();
            var logits = _logits(ids, attention);                                  // (B, T, V)
            Tensor loss = zeros(1, dtype: logits.dtype).squeeze();
            double ceWeight = _options.Objective == "kd" ? _options.CeWeight : 1.0;
            if (ceWeight > 0)
            {
                var ce = NextTokenCrossEntropy.Compute(logits, batch.TargetTensor(), mask);
                terms["ce"] = terms.GetValueOrDefault("ce") + ce.item<float>() / _options.Accumulate;
                loss = loss + ceWeight * ce;
            }
            if (_kd != null && _options.KdWeight > 0)
            {
                var kd = _kd.Compute(logits, Teacher(batch, ids, attention), mask);
                terms[_kd.Name] = terms.GetValueOrDefault(_kd.Name) + kd.item<float>() / _options.Accumulate;
                loss = loss + _options.KdWeight * kd;
            }
            double value = loss.item<float>();
            total += value / _options.Accumulate;
            if (!double.IsFinite(value)) return (value, terms, tokens, false);
            (loss / _options.Accumulate).backward();
        }
        return (total, terms, tokens, true);
    }

    KdTeacher Teacher(LmBatch batch, Tensor ids, Tensor attention)
    {
        if (_cache != null)
            return _cache.Get(batch, () => _teacher?.Invoke(ids, attention)
                ?? throw new DistillSharpException($"example {batch.ExampleIds.First(e => !_cache.Contains(e))} is not in the sparse teacher cache {_cache.Directory} and no teacher was given to compute it"));
        using var noGrad = no_grad();
        return new DenseTeacher(_teacher!(ids, attention));
    }
}
