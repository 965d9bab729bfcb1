using DistillSharp.Data;
using DistillSharp.Data.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder;

/// <summary>What an encoder distillation run trains: its stages and the run-wide settings they share.</summary>
/// <param name="Stages">The stages, in order.</param>
/// <param name="DefaultBatch">Micro-batch size of a stage that sets none.</param>
/// <param name="Seed">Data order seed (stage s shuffles with Seed + s).</param>
/// <param name="CheckpointActivations">Recompute the student's layers in backward instead of keeping activations.</param>
/// <param name="Quantize">The quantize settings a QAT stage trains for; needed only when a stage has <c>qat:</c>.</param>
public sealed record DistillPlan(IReadOnlyList<StageConfig> Stages, int DefaultBatch, int Seed, bool CheckpointActivations = false,
    QuantizeConfig? Quantize = null);

/// <summary>How a <see cref="Distiller"/> runs, besides the plan.</summary>
/// <param name="RunDir">The run folder (checkpoints/, metrics.jsonl).</param>
/// <param name="MaxSteps">Stop cleanly after this many optimizer steps in total (a checkpoint is written).</param>
/// <param name="Resume">Continue from the run folder's latest checkpoint.</param>
/// <param name="CacheRoot">Teacher-output cache folder; null = no cache.</param>
/// <param name="ActivationStatsEvery">Log per-layer activation statistics every N steps (0 = never).</param>
/// <param name="Progress">Called after every optimizer step.</param>
/// <param name="TrimNativeMemoryEvery">Return freed native memory to the OS every N steps (0 = never).</param>
public sealed record DistillerOptions(string RunDir, long? MaxSteps = null, bool Resume = false, string? CacheRoot = null,
    int ActivationStatsEvery = 50, Action<TrainingProgress>? Progress = null, int TrimNativeMemoryEvery = 50);

/// <summary>
/// The encoder family's part of the <see cref="Trainer"/>: each stage sums its weighted loss terms
/// between the student's and the frozen teacher's outputs (from the teacher-output cache when one is
/// given), trains the student parameters the stage selects (progressive distillation), and a stage
/// with <c>qat:</c> trains fake-quantized and exports the quantized model when it completes; the
/// student always comes back with plain Linears. Data: <see cref="TextBatcher"/>, seeded per stage.
/// </summary>
public sealed class Distiller : ITrainingObjective
{
    readonly DistillPlan _plan;
    readonly SentenceEncoder _teacher;
    readonly SentenceEncoder _student;
    readonly IReadOnlyList<string> _corpus;
    readonly DistillerOptions _options;
    QatSession? _qat;
    List<(LossSpec Spec, ILossTerm Term)> _terms = [];
    Dictionary<string, nn.Module> _termModules = [];
    TextBatcher? _batcher;
    TeacherCache? _cache;
    bool _qkv;
    long _hits, _misses;

    public Distiller(DistillPlan plan, SentenceEncoder teacher, SentenceEncoder student, IReadOnlyList<string> corpus, DistillerOptions options)
    {
        _plan = plan;
        _teacher = teacher;
        _student = student;
        _corpus = corpus;
        _options = options;
    }

    /// <summary>Optimizer steps of a stage: its steps, or epochs × batches per epoch / accumulate (rounded up).</summary>
    public int StageSteps(StageConfig stage)
    {
        if (stage.Steps is int steps) return steps;
        int batch = stage.BatchSize(_plan.DefaultBatch);
        int batches = (_corpus.Count + batch - 1) / batch;
        return Math.Max(1, (stage.Epochs ?? 1) * batches / stage.Accumulate);
    }

    /// <summary>Runs (or resumes) the whole schedule; returns when done or when MaxSteps is reached.</summary>
    public TrainingResult Run()
    {
        var stages = _plan.Stages.Select((s, i) => new TrainingStage(s.Name, StageSteps(s), s.Accumulate, s.Optimizer, s.Schedule,
            s.ClipGradNorm, s.LogEvery, s.CheckpointEvery, $"stages[{i}].optimizer.lr")).ToList();
        _teacher.Model.eval();
        _student.Model.CheckpointActivations = _plan.CheckpointActivations;
        try
        {
            return new Trainer(stages, this, new TrainerOptions(_options.RunDir, _options.MaxSteps, _options.Resume,
                _options.ActivationStatsEvery, _options.Progress, _options.TrimNativeMemoryEvery)).Run();
        }
        finally
        {
            EndStage();
            _qat?.Dispose();
            _qat = null;
        }
    }

    /// <inheritdoc/>
    public nn.Module Model => _student.Model;

    /// <inheritdoc/>
    public DataPosition Position => _batcher!.Position;

    /// <inheritdoc/>
    public (long Hits, long Misses) Cache => (_hits, _misses);

    /// <inheritdoc/>
    public void BeforeResume(TrainingState state)
    {
        // A checkpoint taken inside a QAT stage holds the fake-quant state (ranges, LSQ scales): swap first.
        if (state.Stage < _plan.Stages.Count && _plan.Stages[state.Stage].Qat is { } resumedQat && state.StageStep > 0)
            _qat = QatSession.Start(_student, resumedQat, QuantizeSection(), null, 0);
    }

    /// <inheritdoc/>
    public StagePlan BeginStage(int s, DataPosition? start)
    {
        var stage = _plan.Stages[s];
        int batch = stage.BatchSize(_plan.DefaultBatch);
        if (stage.Qat is { } qatConfig && _qat is null)
            _qat = QatSession.Start(_student, qatConfig, QuantizeSection(), _corpus.Take(qatConfig.CalibBatches * batch).ToList(), batch);
        var context = new LossContext(Shape(_student), Shape(_teacher));
        _terms = stage.Losses.Where(l => l.Weight > 0).Select(l => (Spec: l, Term: LossRegistry.Create(l, context))).ToList();
        _termModules = _terms.Where(t => t.Term is nn.Module).ToDictionary(t => t.Spec.Name, t => (nn.Module)t.Term);
        var needs = TeacherNeeds.Of(_terms.Select(t => t.Term));
        _qkv = needs.Queries.Count + needs.Keys.Count + needs.Values.Count > 0;
        var trainable = SelectTrainable(stage);
        _batcher = new TextBatcher(_corpus, _teacher.Tokenizer, batch, _plan.Seed + s, start);
        _cache = _options.CacheRoot is null ? null : new TeacherCache(_options.CacheRoot,
            TeacherCache.Key(TeacherCache.WeightsIdentity(_teacher.Model), _corpus, _teacher.Tokenizer, needs),
            needs, _teacher.Model.Config.NumHiddenLayers, _teacher.Model.Config.HiddenSize, _teacher.Model.Config.NumAttentionHeads);
        return new StagePlan(trainable.Concat(_terms.SelectMany(t => t.Term.Parameters())).ToList(), _termModules);
    }

    /// <inheritdoc/>
    public void BeforeStep(int stageStep) => _qat?.BeforeStep(stageStep);

    /// <inheritdoc/>
    public MicroBatchLoss NextMicroBatch(bool wantActivationStats)
    {
        var batch = _batcher!.Next();
        var mask = tensor(batch.Tokens.AttentionMask);
        ModelOutput teacherOut;
        using (no_grad())
        {
            teacherOut = _cache is null
                ? _teacher.Forward(batch.Tokens, _qkv)
                : _cache.Get(batch, mask, () => _teacher.Forward(batch.Tokens, _qkv));
        }
        var studentOut = _student.Forward(batch.Tokens, _qkv);
        var lossBatch = new LossBatch { AttentionMask = studentOut.AttentionMask };
        Tensor? sum = null;
        var scalars = new Dictionary<string, double>();
        foreach (var (spec, term) in _terms)
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
            foreach (var (k, v) in result.Scalars) scalars[k] = scalars.GetValueOrDefault(k) + v;
        }
        return new MicroBatchLoss(sum!, scalars, batch.Tokens.RealTokens, wantActivationStats ? ActivationStats(studentOut) : null);
    }

    /// <inheritdoc/>
    public void EndStage()
    {
        _hits += _cache?.Hits ?? 0;
        _misses += _cache?.Misses ?? 0;
        _cache?.Dispose();
        _cache = null;
        foreach (var t in _termModules.Values) t.Dispose();
        _termModules = [];
        _terms = [];
    }

    /// <inheritdoc/>
    public string? Finish(bool completed, string? runDir)
    {
        if (_qat is null || !completed || runDir is null) return null;
        string export = QatSession.ExportPath(runDir);
        _qat.Export(export);
        return export;
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

    QuantizeConfig QuantizeSection() => _plan.Quantize
        ?? throw new DistillSharpException("a stage has qat: but the plan carries no quantize settings");

    static ModelShape Shape(SentenceEncoder e) =>
        new(e.Model.Config.NumHiddenLayers, e.Model.Config.HiddenSize, e.Model.Config.NumAttentionHeads, e.Tokenizer.MaxLength);
}
