using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Reports;
using DistillSharp.Reports.Encoder;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Reports;

/// <summary>The report reads what the real <see cref="Distiller"/> writes (not only the fixtures' imitation).</summary>
public sealed class ReportFromDistillerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("reportdistiller-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Corpus = Enumerable.Range(0, 24).Select(i =>
        string.Join(' ', Enumerable.Range(0, 3 + i % 5).Select(j => TinyModels.Words[(i * 5 + j * 3) % 26]))).ToArray();

    static RunConfig TwoStages() => ConfigLoader.Parse<RunConfig>("""
        teacher: { source: tiny }
        student: { layers: 1, hidden: 32, heads: 4, ffn: 64 }
        data: { corpus: test, max_len: 16, batch: 4 }
        stages:
          - name: align
            steps: 6
            losses: { hidden_mse: 1.0, embedding_cosine: 1.0 }
            optimizer: { lr: 3e-3 }
            log_every: 1
          - name: polish
            steps: 4
            losses: { embedding_cosine: 1.0 }
            optimizer: { lr: 1e-3 }
            log_every: 2
        seed: 3
        """);

    [Fact]
    public void ReportOfARealTwoStageRun()
    {
        var teacher = TinyModels.Encoder(seed: 1);
        var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, new StudentSpec(1, TeacherLayers: [1]), seed: 5),
            teacher.Tokenizer, Pooling.Mean, normalize: true, "student");
        new Distiller(TwoStages().DistillPlan(), teacher, student, Corpus, new DistillerOptions(_dir, ActivationStatsEvery: 3)).Run();

        var metrics = MetricsTable.TryLoad(Path.Combine(_dir, ReportGenerator.MetricsFile))!;
        Assert.Equal([new StageSpan("align", 0, 6), new StageSpan("polish", 6, 10)], metrics.Stages());
        Assert.Equal(["loss/hidden_mse", "loss/embedding_cosine"], metrics.LossTermKeys);
        Assert.Equal([0, 1], metrics.ActivationLayers);                 // embeddings + 1 student layer

        var output = ReportGenerator.Generate(_dir);
        Assert.Equal(["report.md", "loss.png", "lr.png", "grad_norm.png", "activations.png"], output.Written.Select(Path.GetFileName));
        Assert.Contains(output.Warnings, w => w.Contains("report.json not found"));
        string md = File.ReadAllText(output.Written[0]);
        Assert.Contains("| align | 1–6 |", md);
        Assert.Contains("| polish | 7–10 |", md);
    }
}
