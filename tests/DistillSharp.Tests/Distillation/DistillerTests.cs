using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Distillation;

public sealed class DistillerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("distiller-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Corpus = Enumerable.Range(0, 48).Select(i =>
        string.Join(' ', Enumerable.Range(0, 3 + i % 9).Select(j => TinyModels.Words[(i * 7 + j * 3) % 26]))).ToArray();

    static RunConfig Config(string extraStage = "", int steps = 8, double lr = 3e-3) => ConfigLoader.Parse<RunConfig>($"""
        teacher: {"{"} source: tiny {"}"}
        student: {"{"} layers: 1, hidden: 32, heads: 4, ffn: 64 {"}"}
        data: {"{"} corpus: test, max_len: 32, batch: 8 {"}"}
        stages:
          - name: align
            steps: {steps}
            losses: {"{"} hidden_mse: 1.0, embedding_cosine: 1.0, minilm_attention: 0.5 {"}"}
            optimizer: {"{"} lr: {lr}, betas: [0.9, 0.98] {"}"}
            schedule: {"{"} name: cosine, warmup: 2 {"}"}
            log_every: 1
            checkpoint_every: 4
        {extraStage}
        seed: 3
        """);

    static (SentenceEncoder Teacher, SentenceEncoder Student) Models()
    {
        var teacher = TinyModels.Encoder(seed: 1);
        var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, new StudentSpec(1, TeacherLayers: [1]), seed: 5),
            teacher.Tokenizer, Pooling.Mean, normalize: true, "student");
        return (teacher, student);
    }

    List<double> Losses(string run) =>
        MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(r => r["loss"].GetDouble()).ToList();

    [Fact]
    public void LossFallsOverTraining()
    {
        var (teacher, student) = Models();
        var result = new Distiller(Config(steps: 30).DistillPlan(), teacher, student, Corpus, new DistillerOptions(_dir)).Run();
        Assert.True(result.Completed);
        var losses = Losses(_dir);
        Assert.Equal(30, losses.Count);
        Assert.True(losses.TakeLast(5).Average() < 0.7 * losses.Take(5).Average(), $"first {losses[0]}, last {losses[^1]}");
        var record = MetricsLog.Read(Path.Combine(_dir, "metrics.jsonl"))[0];
        foreach (string key in new[] { "lr", "grad_norm", "tokens_per_s", "loss/hidden_mse", "loss/embedding_cosine", "loss/minilm_attention" })
            Assert.True(record.ContainsKey(key), key);
    }

    [Fact]
    public void StoppingAndResumingGivesTheSameLossesAsOneRun()
    {
        string straight = Path.Combine(_dir, "straight"), split = Path.Combine(_dir, "split");
        var (t1, s1) = Models();
        new Distiller(Config().DistillPlan(), t1, s1, Corpus, new DistillerOptions(straight, MaxSteps: 8)).Run();

        var (t2, s2) = Models();
        var first = new Distiller(Config().DistillPlan(), t2, s2, Corpus, new DistillerOptions(split, MaxSteps: 5)).Run();
        Assert.Equal(5, first.GlobalStep);
        var (t3, s3) = Models(); // a new process would build fresh models; the checkpoint restores them
        var second = new Distiller(Config().DistillPlan(), t3, s3, Corpus, new DistillerOptions(split, MaxSteps: 8, Resume: true)).Run();
        Assert.Equal(8, second.GlobalStep);

        Assert.Equal(Losses(straight), Losses(split));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "checkpoints", "step-00000008", "student.safetensors")),
            File.ReadAllBytes(Path.Combine(split, "checkpoints", "step-00000008", "student.safetensors")));
    }

    [Fact]
    public void ProgressiveStageTrainsOnlyTheLayersItNames()
    {
        var (teacher, student) = Models();
        var before = student.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        string stage2 = """
              - name: embeddings-only
                steps: 3
                train_layers: embeddings
                losses: { embedding_mse: 1.0 }
            """;
        var config = Config(steps: 2) with { Stages = [Config(steps: 2).Stages[0] with { TrainLayers = new TrainLayers { Embeddings = true } }] };
        new Distiller(config.DistillPlan(), teacher, student, Corpus, new DistillerOptions(_dir)).Run();
        var after = student.Model.state_dict();
        Assert.False(after["embeddings.word_embeddings.weight"].equal(before["embeddings.word_embeddings.weight"]).all().item<bool>());
        Assert.True(after["encoder.layer.0.attention.self.query.weight"].equal(before["encoder.layer.0.attention.self.query.weight"]).all().item<bool>());
        Assert.NotEmpty(stage2);
    }

    [Fact]
    public void TeacherCacheIsWrittenColdAndReadWarm()
    {
        string cache = Path.Combine(_dir, "cache");
        var (t1, s1) = Models();
        var cold = new Distiller(Config().DistillPlan(), t1, s1, Corpus, new DistillerOptions(Path.Combine(_dir, "a"), CacheRoot: cache)).Run();
        // 8 steps × 8 examples: all 48 examples computed once (epoch 1), then 16 served from disk (epoch 2).
        Assert.Equal(Corpus.Length, cold.CacheMisses);
        Assert.Equal(64 - Corpus.Length, cold.CacheHits);
        var (t2, s2) = Models();
        var warm = new Distiller(Config().DistillPlan(), t2, s2, Corpus, new DistillerOptions(Path.Combine(_dir, "b"), CacheRoot: cache)).Run();
        Assert.True(Directory.GetDirectories(cache).Length == 1, string.Join(", ", Directory.GetDirectories(cache)));
        Assert.Equal(0, warm.CacheMisses);
        Assert.Equal(64, warm.CacheHits);
        // A miss trains on the stored (fp16) form, so cold and warm runs are the same run, bit for bit.
        Assert.Equal(Losses(Path.Combine(_dir, "a")), Losses(Path.Combine(_dir, "b")));
        var weights = (SentenceEncoder s) => s.Model.state_dict().Select(kv => kv.Value.data<float>().ToArray()).ToList();
        Assert.Equal(weights(s1), weights(s2));
    }

    [Fact]
    public void DivergingTrainingStopsWithAMessageNamingTheLearningRate()
    {
        var (teacher, student) = Models();
        var e = Assert.Throws<DistillSharpException>(() =>
            new Distiller(Config(steps: 40, lr: 1e30).DistillPlan(), teacher, student, Corpus, new DistillerOptions(_dir)).Run());
        Assert.Contains("optimizer.lr", e.Message);
    }

    [Fact]
    public void ResumeWithoutCheckpointIsAnError()
    {
        var (teacher, student) = Models();
        var e = Assert.Throws<DistillSharpException>(() =>
            new Distiller(Config().DistillPlan(), teacher, student, Corpus, new DistillerOptions(_dir, Resume: true)).Run());
        Assert.Contains("no checkpoint", e.Message);
    }
}
