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
/// <param name="TeacherEngine">
/// Makes the engine that runs the frozen teacher for a stage's outputs (teacher, outputs); null = the
/// TorchSharp teacher itself (<see cref="TorchTeacherForward"/>).
/// </param>
public sealed record DistillerOptions(string RunDir, long? MaxSteps = null, bool Resume = false, string? CacheRoot = null,
    int ActivationStatsEvery = 50, Action<TrainingProgress>? Progress = null, int TrimNativeMemoryEvery = 50,
    Func<SentenceEncoder, TeacherOutputs, ITeacherForward>? TeacherEngine = null);

/// <summary>
/// The encoder family's part of the <see cref="Trainer"/>, for sentence encoders and sequence
/// classifiers alike (<see cref="IEncoderFamilyModel"/>): each stage sums its weighted loss terms
/// between the student's and the frozen teacher's outputs (from the teacher-output cache when one is
/// given; a stage whose terms read nothing of the teacher, such as <c>ce</c> alone, runs without
/// one — fine-tuning and the CE baseline), with the texts' labels in the loss batch when the corpus
/// has them, trains the student parameters the stage selects (progressive distillation), and a stage
/// with <c>qat:</c> trains fake-quantized and exports the quantized model when it completes; the
/// student always comes back with plain Linears. A term that needs a fit (<see cref="ITeacherFittedTerm"/>:
/// matryoshka's basis) gets the teacher's pooled embeddings of the stage's first texts before the
/// first step. Data: <see cref="TextBatcher"/>, seeded per stage.
/// </summary>
public sealed class Distiller : ITrainingObjective
{
    readonly DistillPlan _plan;
    readonly IEncoderFamilyModel? _teacher;
    readonly IEncoderFamilyModel _student;
    readonly IReadOnlyList<string> _corpus;
    readonly IReadOnlyList<long>? _labels;
    readonly DistillerOptions _options;
    QatSession? _qat;
    List<(LossSpec Spec, ILossTerm Term)> _terms = [];
    Dictionary<string, nn.Module> _termModules = [];
    TextBatcher? _batcher;
    TeacherCache? _cache;
    ITeacherForward? _engine;
    bool _qkv, _needsTeacher;
    long _hits, _misses;

    /// <summary>
    /// Trains <paramref name="student"/> on <paramref name="corpus"/>; <paramref name="teacher"/> may be null
    /// when no stage's terms read it. <paramref name="labels"/> (one class id per text, −100 for none)
    /// go to the task loss.
    /// </summary>
    public Distiller(DistillPlan plan, IEncoderFamilyModel? teacher, IEncoderFamilyModel student, IReadOnlyList<string> corpus,
        DistillerOptions options, IReadOnlyList<long>? labels = null)
    {
        if (labels is not null && labels.Count != corpus.Count)
            throw new ArgumentException($"{labels.Count} labels for {corpus.Count} texts", nameof(labels));
        _plan = plan;
        _teacher = teacher;
        _student = student;
        _corpus = corpus;
        _labels = labels;
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
        _teacher?.Module.eval();
        _student.Encoder.CheckpointActivations = _plan.CheckpointActivations;
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
    public nn.Module Model => _student.Module;

    /// <inheritdoc/>
    public DataPosition Position => _batcher!.Position;

    /// <inheritdoc/>
    public (long Hits, long Misses) Cache => (_hits, _misses);

    /// <inheritdoc/>
    public void BeforeResume(TrainingState state)
    {
        // A checkpoint taken inside a QAT stage holds the fake-quant state (ranges, LSQ scales): swap first.
        if (state.Stage < _plan.Stages.Count && _plan.Stages[state.Stage].Qat is { } resumedQat && state.StageStep > 0)
            _qat = QatSession.Start(SentenceStudent(), resumedQat, QuantizeSection(), null, 0);
    }

    /// <inheritdoc/>
    public StagePlan BeginStage(int s, DataPosition? start)
    {
        var stage = _plan.Stages[s];
        int batch = stage.BatchSize(_plan.DefaultBatch);
        if (stage.Qat is { } qatConfig && _qat is null)
            _qat = QatSession.Start(SentenceStudent(), qatConfig, QuantizeSection(), _corpus.Take(qatConfig.CalibBatches * batch).ToList(), batch);
        var context = new LossContext(Shape(_student), Shape(_teacher ?? _student), ClassCounts());
        _terms = stage.Losses.Where(l => l.Weight > 0).Select(l => (Spec: l, Term: LossRegistry.Create(l, context))).ToList();
        _termModules = _terms.Where(t => t.Term is nn.Module).ToDictionary(t => t.Spec.Name, t => (nn.Module)t.Term);
        var needs = TeacherNeeds.Of(_terms.Select(t => t.Term));
        _needsTeacher = !needs.IsEmpty;
        if (_needsTeacher && _teacher is null)
            throw new DistillSharpException($"stage '{stage.Name}': its losses ({string.Join(", ", _terms.Select(t => t.Spec.Name))}) need a teacher, and this run has none");
        if (_terms.Any(t => t.Term is TaskCrossEntropyLoss) && _labels is null)
            throw new DistillSharpException($"stage '{stage.Name}': loss 'ce' needs labelled texts, and this corpus has no labels");
        _qkv = needs.Outputs.AnyQkv;
        _engine?.Dispose();
        // A sentence-encoder teacher runs on the configured engine, asked for what the losses read; other
        // encoder-family teachers (a sequence classifier) run their own TorchSharp forward.
        _engine = !_needsTeacher || _teacher is not SentenceEncoder sentenceTeacher ? null
            : _options.TeacherEngine is { } make ? make(sentenceTeacher, needs.Outputs) : new TorchTeacherForward(sentenceTeacher, needs.Outputs);
        if (_options.TeacherEngine is not null && _needsTeacher && _engine is null)
            throw new DistillSharpException($"stage '{stage.Name}': a teacher engine runs sentence-encoder teachers only; this teacher is a {_teacher!.GetType().Name}");
        var trainable = SelectTrainable(stage);
        _batcher = new TextBatcher(_corpus, _student.Tokenizer, batch, _plan.Seed + s, start);
        _cache = _options.CacheRoot is null || !_needsTeacher ? null : new TeacherCache(_options.CacheRoot,
            TeacherCache.Key(TeacherCache.WeightsIdentity(_teacher!.Module), _corpus, _teacher.Tokenizer, needs),
            needs, _teacher.Encoder.Config.NumHiddenLayers, _teacher.Encoder.Config.HiddenSize, _teacher.Encoder.Config.NumAttentionHeads,
            needs.Logits ? LogitWidth(_teacher) : 0);
        foreach (var fitted in _terms.Select(t => t.Term).OfType<ITeacherFittedTerm>())
            fitted.Fit(TeacherSample(s, batch, fitted.FitTexts));
        return new StagePlan(trainable.Concat(_terms.SelectMany(t => t.Term.Parameters())).ToList(), _termModules);
    }

    // The teacher's pooled embeddings of the stage's first `count` texts, in the stage's own seeded
    // order and through its cache: training reads the same examples back from the cache, and a resumed
    // run fits on the same (stored) numbers.
    List<float[]> TeacherSample(int s, int batchSize, int count)
    {
        var sampler = new TextBatcher(_corpus, _student.Tokenizer, batchSize, _plan.Seed + s);
        var rows = new List<float[]>();
        for (int i = 0; i < sampler.BatchesPerEpoch && rows.Count < count; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var batch = sampler.Next();
            var output = TeacherOutput(batch, tensor(batch.Tokens.AttentionMask));
            var pooled = (output.Pooled ?? throw new DistillSharpException("a loss fits on the teacher's pooled embeddings, but the teacher output has none"))
                .to_type(ScalarType.Float32).contiguous();                                     // (B, H)
            int width = (int)pooled.shape[1];
            var data = pooled.data<float>().ToArray();
            for (int r = 0; r < pooled.shape[0] && rows.Count < count; r++) rows.Add(data.AsSpan(r * width, width).ToArray());
        }
        return rows;
    }

    // The teacher's outputs of a batch: from the stage's teacher-output cache when there is one.
    ModelOutput TeacherOutput(IndexedBatch batch, Tensor mask) =>
        _cache is null ? TeacherForward(batch) : _cache.Get(batch, mask, () => TeacherForward(batch));

    /// <inheritdoc/>
    public void BeforeStep(int stageStep) => _qat?.BeforeStep(stageStep);

    /// <inheritdoc/>
    public MicroBatchLoss NextMicroBatch(bool wantActivationStats)
    {
        var batch = _batcher!.Next();
        var mask = tensor(batch.Tokens.AttentionMask);
        var studentOut = _student.Forward(batch.Tokens, _qkv);
        ModelOutput teacherOut = studentOut;                            // read by no term when the stage needs no teacher
        if (_needsTeacher)
            using (no_grad())
            {
                teacherOut = TeacherOutput(batch, mask);
            }
        var lossBatch = new LossBatch
        {
            AttentionMask = studentOut.AttentionMask,
            Labels = _labels is null ? null : tensor(batch.ExampleIds.Select(i => _labels[i]).ToArray()),
        };
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
        _engine?.Dispose();
        _engine = null;
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
    ModelOutput TeacherForward(IndexedBatch batch) => _engine is { } e ? e.Forward(batch.Tokens) : _teacher!.Forward(batch.Tokens, _qkv);

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
        foreach (var (name, p) in _student.Module.named_parameters())
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

    // Labelled texts per class of the corpus (what ce's class weights are computed from); a
    // classifier student fixes the class count, so a class without texts counts 0.
    long[]? ClassCounts()
    {
        if (_labels is null) return null;
        int classes = _student is DistillSharp.Models.Classifier.SequenceClassifier c ? c.Config.NumLabels
            : (int)(_labels.DefaultIfEmpty(-1).Max() + 1);
        var counts = new long[Math.Max(classes, 0)];
        foreach (long y in _labels)
            if (y >= 0 && y < counts.Length) counts[y]++;
        return counts;
    }

    static ModelShape Shape(IEncoderFamilyModel e) =>
        new(e.Encoder.Config.NumHiddenLayers, e.Encoder.Config.HiddenSize, e.Encoder.Config.NumAttentionHeads, e.Tokenizer.MaxLength);

    // Quantization-aware training wraps a sentence encoder's Linears (QatSession); classifiers quantize after training.
    SentenceEncoder SentenceStudent() => _student as SentenceEncoder
        ?? throw new DistillSharpException($"qat: trains sentence encoders; {_student.Source} is a {_student.GetType().Name} (quantize it after training)");

    // Logits per example of a teacher: a classifier's class count (a sentence encoder has none).
    static int LogitWidth(IEncoderFamilyModel teacher) => teacher is DistillSharp.Models.Classifier.SequenceClassifier c ? c.Config.NumLabels
        : throw new DistillSharpException($"a loss needs the teacher's logits; {teacher.Source} is a {teacher.GetType().Name} without a classification head");
}
