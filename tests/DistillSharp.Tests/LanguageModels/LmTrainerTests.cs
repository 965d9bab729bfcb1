using DistillSharp.Distillation.Divergences;
using DistillSharp.Distillation;
using DistillSharp.Data.Decoder;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Models.Decoder;
using DistillSharp.Evaluation.Decoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.LanguageModels;

public sealed class LmTrainerTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "ds-lmtrain-" + Guid.NewGuid().ToString("N")[..8]);
    const int V = 8;

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static LmTrainerOptions Options(int steps, string? runDir = null) => new()
    {
        Steps = steps, Optimizer = new OptimizerConfig(Lr: 3e-2, Beta1: 0.9, Beta2: 0.95, WeightDecay: 0.1),
        Schedule = new ScheduleConfig("cosine", WarmupSteps: 2), RunDir = runDir, LogEvery = 1, TrimNativeMemoryEvery = 0,
    };

    static PackedLmBatcher Data() => new(TinyLm.CyclicDocs(), 0, blockLength: 8, batchSize: 4, seed: 3);

    [Fact]
    public void PretrainLossGoesDownOnARepetitiveStream()
    {
        var model = new TinyLm(V, seed: 1);
        var data = Data();
        double before = Perplexity.Evaluate(model.Logits, data.Epoch(0).Take(4)).MeanNll;
        var progress = new List<TrainingProgress>();
        var result = new LmTrainer(model, model.Logits, data, Options(40) with { Progress = progress.Add }).Run();
        double after = Perplexity.Evaluate(model.Logits, data.Epoch(0).Take(4)).MeanNll;
        Assert.True(after < 0.5 * before, $"NLL {before:F3} → {after:F3}");
        Assert.Equal(40, result.GlobalStep);
        Assert.True(result.Completed);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), progress.Select(p => p.GlobalStep));
        Assert.All(progress, p => Assert.Equal(40, p.TotalSteps));
    }

    [Fact]
    public void SixStepsEqualThreePlusResumeThreeBitForBit()
    {
        var straight = new TinyLm(V, seed: 2);
        new LmTrainer(straight, straight.Logits, Data(), Options(6, Path.Combine(_dir, "a")) with { Accumulate = 2 }).Run();

        string split = Path.Combine(_dir, "b");
        var first = new TinyLm(V, seed: 2);
        var r1 = new LmTrainer(first, first.Logits, Data(), Options(6, split) with { Accumulate = 2, MaxSteps = 3 }).Run();
        Assert.False(r1.Completed);
        manual_seed(999);                                    // the checkpoint's RNG state must win over this
        var second = new TinyLm(V, seed: 77);                // different init: the checkpoint must overwrite it
        var r2 = new LmTrainer(second, second.Logits, Data(), Options(6, split) with { Accumulate = 2, Resume = true }).Run();
        Assert.Equal(6, r2.GlobalStep);
        Assert.Equal(straight.Weights(), second.Weights());
        var steps = MetricsLog.Read(Path.Combine(split, "metrics.jsonl")).Select(r => r["step"].GetInt64());
        Assert.Equal([1L, 2, 3, 4, 5, 6], steps);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KdAgainstADenseTeacherOrASparseCacheLowersTheDivergence(bool sparse)
    {
        var teacher = new TinyLm(V, seed: 5);
        new LmTrainer(teacher, teacher.Logits, Data(), Options(20)).Run();
        teacher.eval();
        var student = new TinyLm(V, seed: 6);
        var data = Data();
        var kd = new TokenKdLoss(new ForwardKl());
        double Divergence()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var b = data.Epoch(0).First();
            return kd.Compute(student.Logits(b.InputTensor(), b.AttentionTensor()), new DenseTeacher(teacher.Logits(b.InputTensor(), b.AttentionTensor())), b.LossMaskTensor()).item<float>();
        }
        double before = Divergence();
        var options = Options(25) with { Objective = "kd", Kd = new TokenKdSpec("forward_kl"), CeWeight = 0.1 };
        var cacheOptions = new SparseCacheOptions(TopK: 4);
        using var cache = sparse ? new SparseTeacherCache(_dir, SparseTeacherCache.Key("tiny", data.ContentHash, cacheOptions), cacheOptions) : null;
        var result = new LmTrainer(student, student.Logits, data, options, teacher.Logits, cache).Run();
        Assert.True(Divergence() < 0.5 * before, $"sparse={sparse}: KL {before:F3} → {Divergence():F3}");
        if (sparse)
        {
            // Each block goes to the teacher once (the first epoch's 80, then the few the second epoch adds); the rest are hits.
            Assert.InRange(result.CacheMisses, data.BatchesPerEpoch * 4, data.Blocks);
            Assert.Equal(25 * 4, result.CacheHits + result.CacheMisses);
        }
    }

    [Fact]
    public void KdStepsFromTheSparseCacheDoNotLeakTensors()
    {
        var teacher = new TinyLm(V, seed: 5);
        teacher.eval();
        var model = new TinyLm(V, seed: 6);
        var data = Data();
        var cacheOptions = new SparseCacheOptions(TopK: 4);
        using var cache = new SparseTeacherCache(_dir, SparseTeacherCache.Key("tiny", data.ContentHash, cacheOptions), cacheOptions);
        foreach (var b in data.Epoch(0))
            using (NewDisposeScope()) cache.Get(b, () => teacher.Logits(b.InputTensor(), b.AttentionTensor()));
        var live = new List<long>();
        var options = Options(12) with { Objective = "kd", CeWeight = 0.5, Progress = _ => live.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount) };
        var result = new LmTrainer(model, model.Logits, data, options, teacherCache: cache).Run();
        Assert.Equal(12 * 4, result.CacheHits);                               // warm cache: no teacher needed
        Assert.All(live.Skip(2), n => Assert.Equal(live[2], n));              // AdamW state appears at step 1
    }

    [Fact]
    public void MaskedPositionsDoNotAffectTheSftLoss()
    {
        using var scope = NewDisposeScope();
        var model = new TinyLm(V, seed: 4);
        var batch = new SftBatcher([new SftExample([1, 2, 3], [4, 5])], 1, 8, 0).Next();
        var logits = model.Logits(batch.InputTensor(), batch.AttentionTensor()).detach().requires_grad_(true);
        var loss = NextTokenCrossEntropy.Compute(logits, batch.TargetTensor(), batch.LossMaskTensor());
        var grad = autograd.grad([loss], [logits])[0];
        Assert.Equal(0f, grad[0, ..2].abs().sum().item<float>());               // prompt positions 0, 1
        Assert.True(grad[0, 2..].abs().sum().item<float>() > 0);               // targets 4 and 5
    }

    [Fact]
    public void NonFiniteLossesAreSkippedThenTheRunStops()
    {
        var model = new TinyLm(V, seed: 1);
        Tensor Broken(Tensor ids, Tensor mask) => model.Logits(ids, mask) * double.NaN;
        var e = Assert.Throws<DistillSharpException>(() => new LmTrainer(model, Broken, Data(), Options(20)).Run());
        Assert.Contains("10 consecutive non-finite steps", e.Message);
    }

    [Fact]
    public void PerplexityOfUniformLogitsIsTheVocabularySize()
    {
        var result = Perplexity.Evaluate((ids, _) => zeros(ids.shape[0], ids.shape[1], V), Data().Epoch(0).Take(2));
        Assert.Equal(V, result.Perplexity, 4);
        Assert.Equal(2 * 4 * 8, result.Tokens);
    }

    [Fact]
    public void BadOptionsAreClearErrors()
    {
        var model = new TinyLm(V, seed: 1);
        Assert.Contains("pretrain, sft, kd", Assert.Throws<DistillSharpException>(() =>
            new LmTrainer(model, model.Logits, Data(), Options(1) with { Objective = "rl" })).Message);
        Assert.Contains("teacher", Assert.Throws<DistillSharpException>(() =>
            new LmTrainer(model, model.Logits, Data(), Options(1) with { Objective = "kd" })).Message);
    }
}
