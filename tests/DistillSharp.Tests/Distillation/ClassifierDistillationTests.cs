using DistillSharp.Data.Labelled;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models.Classifier;
using DistillSharp.Models.Encoder;

namespace DistillSharp.Tests.Distillation;

/// <summary>The encoder objective on sequence classifiers: fine-tuning (no teacher), logit KD through the cache, the checks.</summary>
public sealed class ClassifierDistillationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("cls-distill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A text's label is the kind of its first word: animal (cat, dog, bird, fish), thing (house, tree, mat), action (ran, sat, eat, sleep).
    static readonly string[][] Kinds = [["cat", "dog", "bird", "fish"], ["house", "tree", "mat"], ["ran", "sat", "eat", "sleep"]];
    static readonly string[] Filler = ["the", "a", "big", "small", "red", "blue", "and", "is", "was", "it"];

    static (List<string> Texts, List<long> Labels) Corpus(int n, int offset = 0)
    {
        var texts = new List<string>();
        var labels = new List<long>();
        for (int i = offset; i < offset + n; i++)
        {
            int kind = i % 3;
            var words = new List<string> { Kinds[kind][i / 3 % Kinds[kind].Length] };
            for (int j = 0; j < 2 + i % 5; j++) words.Add(Filler[(i * 7 + j * 3) % Filler.Length]);
            texts.Add(string.Join(' ', words));
            labels.Add(kind);
        }
        return (texts, labels);
    }

    static LossSpec Loss(string name, double weight, params (string, object)[] options) => new(name, weight, LossRegistry.Get(name).Settings(options));

    static DistillPlan Plan(int steps, double lr, params LossSpec[] losses) => new([new StageConfig
    {
        Name = "s", Steps = steps, Losses = losses, Optimizer = new OptimizerConfig(Lr: lr, Beta1: 0.9, Beta2: 0.98),
        Schedule = new ScheduleConfig("cosine", WarmupSteps: 2), LogEvery = 1,
    }], DefaultBatch: 12, Seed: 3);

    static double Accuracy(SequenceClassifier model, List<string> texts, List<long> labels)
    {
        var p = model.Probabilities(texts);
        return p.Select((row, i) => Array.IndexOf(row, row.Max()) == labels[i] ? 1.0 : 0.0).Average();
    }

    [Fact]
    public void FineTuningWithCrossEntropyLearnsTheLabels()
    {
        var (texts, labels) = Corpus(60);
        using var model = TinyModels.Classifier(seed: 2);
        double before = Accuracy(model, texts, labels);
        var result = new Distiller(Plan(40, 3e-3, Loss("ce", 1.0)), null, model, texts, new DistillerOptions(Path.Combine(_dir, "ft")), labels).Run();
        Assert.True(result.Completed);
        Assert.Equal((0, 0), (result.CacheHits, result.CacheMisses));             // no teacher, no cache
        double after = Accuracy(model, texts, labels);
        Assert.True(after > 0.9 && after > before + 0.3, $"accuracy {before:F2} → {after:F2}");
    }

    [Fact]
    public void LogitKdThroughTheCacheGivesTheSameStudentColdAndWarm()
    {
        var (texts, labels) = Corpus(36);
        var (more, _) = Corpus(24, offset: 100);
        var corpus = texts.Concat(more).ToList();
        var withUnlabelled = labels.Concat(Enumerable.Repeat(TrainingTexts.Unlabelled, more.Count)).ToList();
        using var teacher = TinyModels.Classifier(seed: 3, TinyModels.Config(layers: 2));
        var plan = Plan(10, 2e-3, Loss("kl", 1.0, ("temperature", 2.0)), Loss("hidden_mse", 1.0), Loss("ce", 0.5));
        byte[] Run(string name)
        {
            using var student = ClassifierBuilder.Student(teacher, new StudentSpec(1, TeacherLayers: [1]), seed: 4);
            var result = new Distiller(plan, teacher, student, corpus,
                new DistillerOptions(Path.Combine(_dir, name), CacheRoot: Path.Combine(_dir, "cache")), withUnlabelled).Run();
            Assert.True(result.Completed);
            if (name == "warm") Assert.Equal(0, result.CacheMisses);
            else Assert.True(result.CacheMisses > 0);
            return File.ReadAllBytes(Path.Combine(_dir, name, "checkpoints", "step-00000010", "student.safetensors"));
        }
        var cold = Run("cold");
        var warm = Run("warm");
        Assert.Equal(cold, warm);
        var record = DistillSharp.Distillation.MetricsLog.Read(Path.Combine(_dir, "cold", "metrics.jsonl"))[0];
        foreach (string key in new[] { "loss/kl", "loss/hidden_mse", "loss/ce" }) Assert.True(record.ContainsKey(key), key);
    }

    [Fact]
    public void ATeacherLossWithoutATeacherOrCeWithoutLabelsIsOneClearError()
    {
        var (texts, labels) = Corpus(12);
        using var model = TinyModels.Classifier(seed: 5);
        var e = Assert.Throws<DistillSharpException>(() =>
            new Distiller(Plan(2, 1e-3, Loss("kl", 1.0)), null, model, texts, new DistillerOptions(Path.Combine(_dir, "a")), labels).Run());
        Assert.Equal("stage 's': its losses (kl) need a teacher, and this run has none", e.Message);
        e = Assert.Throws<DistillSharpException>(() =>
            new Distiller(Plan(2, 1e-3, Loss("ce", 1.0)), null, model, texts, new DistillerOptions(Path.Combine(_dir, "b"))).Run());
        Assert.Equal("stage 's': loss 'ce' needs labelled texts, and this corpus has no labels", e.Message);
    }
}
