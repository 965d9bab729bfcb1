using DistillSharp.Config.Classifier;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Classifier;
using DistillSharp.Reports.Classifier;
using DistillSharp.Runtime.Classifier;

namespace DistillSharp.Tests.Pipeline;

/// <summary>The whole classification pipeline on a tiny encoder and a small labelled CSV, a few steps per phase.</summary>
public sealed class ClassifyPipelineSmokeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("cls-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[][] Kinds = [["cat", "dog", "bird", "fish"], ["house", "tree", "mat"], ["ran", "sat", "eat", "sleep"]];
    static readonly string[] Filler = ["the", "a", "big", "small", "red", "blue", "and", "is", "was", "it"];
    static readonly string[] Names = ["animal", "thing", "action"];

    internal static string WriteCsv(string dir, int rows)
    {
        var lines = new List<string> { "utterance,intent" };
        for (int i = 0; i < rows; i++)
        {
            int kind = i % 3;
            var words = new List<string> { Kinds[kind][i / 3 % Kinds[kind].Length] };
            for (int j = 0; j < 2 + i % 7; j++) words.Add(Filler[(i * 7 + j * 3 + i / 10) % Filler.Length]);
            lines.Add($"{string.Join(' ', words)},{Names[kind]}");
        }
        string path = Path.Combine(dir, "intents.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    static LossSpec Loss(string name, double weight, params (string, object)[] options) => new(name, weight, LossRegistry.Get(name).Settings(options));

    static StageConfig Stage(string name, int steps, int accumulate, params LossSpec[] losses) => new()
    {
        Name = name, Steps = steps, Accumulate = accumulate, Losses = losses,
        Optimizer = new OptimizerConfig(Lr: 2e-3, Beta1: 0.9, Beta2: 0.98), Schedule = new ScheduleConfig("cosine", WarmupSteps: 1), LogEvery = 1,
    };

    internal static ClassifyRunConfig Config(string csv, string baseEncoder, string unlabelled = "none") => new()
    {
        Data = new ClassifyDataConfig(csv, "utterance", "intent", Dev: 0.1, Test: 0.2, MaxTrain: 60, Unlabelled: unlabelled, MaxLen: 32, Batch: 8),
        Teacher = new ClassifyTeacherConfig(null, baseEncoder, Stage("finetune", 6, 1, Loss("ce", 1.0))),
        Student = new StudentConfig(1, 32, 4, 64, "teacher", [1]),
        Stages =
        [
            Stage("align", 3, 1, Loss("hidden_mse", 1.0), Loss("minilm_attention", 1.0), Loss("kl", 1.0, ("temperature", 2.0))),
            Stage("task", 2, 2, Loss("kl", 1.0, ("temperature", 2.0)), Loss("ce", 0.5)),
        ],
        Quantize = new Dictionary<string, object?> { ["recipe"] = "int8-dynamic" },
        Bench = new BenchConfig([1, 4], Seq: 16, Runs: 3),
        Seed = 7,
    };

    [Fact]
    public void RunsEveryPhaseAndWritesTheReport()
    {
        string csv = WriteCsv(_dir, 120);
        string encoderDir = Path.Combine(_dir, "encoder");
        using (var encoder = TinyModels.Encoder(seed: 2)) HuggingFaceFolder.Save(encoder, encoderDir);
        var config = Config(csv, encoderDir, unlabelled: "rest");
        var log = new StringWriter();
        var outcome = ClassifyPipeline.Run(config, new ClassifyRunOptions(Path.Combine(_dir, "run"), null, log, "smoke", CacheRoot: Path.Combine(_dir, "cache")));
        var report = ClassifyReport.Load(outcome.ReportPath);
        Assert.Equal(["baseline_ce", "student", "student_int8", "student_int8_onnxruntime", "student_onnxruntime", "teacher"], report.Variants.Keys.Order());
        Assert.Equal(Names, report.Data.Labels);
        Assert.Equal(120, report.Data.ClassCounts.Sum(c => c.Train + c.Dev + c.Test) + (report.Data.KdCorpus - 60));
        Assert.NotNull(report.StudentVsBaseline);
        Assert.All(report.Variants.Where(v => v.Key != "baseline_ce"), v => Assert.True(v.Value.LatencyMs!["p50"] > 0, v.Key));
        Assert.True(Int8ClassifierFile.IsFolder(Path.Combine(outcome.RunDir, "student-int8")));
        foreach (string file in new[] { "config.yaml", "report.md", "student.onnx", "student-int8.onnx", "plots/confusion_student.png", "plots/reliability.png", "baseline_ce/metrics.jsonl" })
            Assert.True(File.Exists(Path.Combine(outcome.RunDir, file)), file);
        // The ONNX Runtime fp32 row computes what TorchSharp's student computes.
        Assert.Equal(report.Variants["student"].Quality["accuracy"], report.Variants["student_onnxruntime"].Quality["accuracy"]);
        // A second run reuses the fine-tuned teacher.
        var again = ClassifyPipeline.Run(config, new ClassifyRunOptions(Path.Combine(_dir, "run2"), null, log, "smoke", CacheRoot: Path.Combine(_dir, "cache")));
        var second = ClassifyReport.Load(again.ReportPath);
        Assert.True(second.Phases.Single(p => p.Name == "finetune").Cached);
        Assert.Contains("reusing the fine-tuned teacher", log.ToString());
        // ... and scores it from the cached test-set probabilities, to the same numbers; the students are evaluated again.
        Assert.False(report.Phases.Single(p => p.Name == "evaluate teacher").Cached);
        Assert.True(second.Phases.Single(p => p.Name == "evaluate teacher").Cached);
        Assert.False(second.Phases.Single(p => p.Name == "evaluate student").Cached);
        Assert.Equal(report.Variants["teacher"].Quality, second.Variants["teacher"].Quality);
        Assert.Equal(report.Variants["teacher"].PerClassF1, second.Variants["teacher"].PerClassF1);
        Assert.Contains("(probabilities from the evaluation cache)", log.ToString());
    }
}
