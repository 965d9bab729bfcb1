using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Distillation;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Distillation;

/// <summary>A distillation stage with <c>qat:</c> on tiny models: the teacher's losses train a fake-quantized student.</summary>
public sealed class QatStageTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("qatstage-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Corpus = Enumerable.Range(0, 48).Select(i =>
        string.Join(' ', Enumerable.Range(0, 3 + i % 9).Select(j => TinyModels.Words[(i * 7 + j * 3) % 26]))).ToArray();

    // Stage 0: 3 float steps; stage 1: 6 QAT steps (ranges calibrated by min-max, frozen from step 4).
    static RunConfig Config(string qat = "{ observer: minmax, calib_batches: 2, freeze_observers_after: 4 }") => ConfigLoader.Parse<RunConfig>($$"""
        teacher: { source: tiny }
        student: { layers: 1, hidden: 32, heads: 4, ffn: 64 }
        data: { corpus: test, max_len: 32, batch: 8 }
        stages:
          - { name: float, steps: 3, losses: { embedding_cosine: 1.0 }, optimizer: { lr: 3.0e-3 }, log_every: 1 }
          - name: qat
            steps: 6
            losses: { embedding_cosine: 1.0, embedding_mse: 1.0 }
            optimizer: { lr: 1.0e-3 }
            log_every: 1
            checkpoint_every: 2
            qat: {{qat}}
        quantize: { mode: static, qat: true }
        seed: 3
        """);

    static (SentenceEncoder Teacher, SentenceEncoder Student) Models()
    {
        var teacher = TinyModels.Encoder(seed: 1);
        var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, new StudentSpec(1, TeacherLayers: [1]), seed: 5),
            teacher.Tokenizer, Pooling.Mean, normalize: true, "student");
        return (teacher, student);
    }

    static List<double> Losses(string run) =>
        MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(r => r["loss"].GetDouble()).ToList();

    [Theory]
    [InlineData("{ observer: minmax, calib_batches: 2, freeze_observers_after: 4 }", "moving_average_minmax")]
    [InlineData("{ learn_ranges: lsq, observer: percentile }", "lsq")]
    public void QatStageExportsAStaticInt8ModelAndLeavesPlainLinears(string qat, string exportedObserver)
    {
        var (teacher, student) = Models();
        var result = new Distiller(Config(qat).DistillPlan(), teacher, student, Corpus, new DistillerOptions(_dir)).Run();
        Assert.True(result.Completed);
        Assert.Equal(QatSession.ExportPath(_dir), result.Artifact);
        var exported = QuantizedModelFile.Load(result.Artifact!);
        Assert.Equal(ActivationMode.Static, exported.Mode);
        Assert.Equal(exportedObserver, exported.Observer);
        Assert.Equal(6, exported.Layers.Count);                 // q, k, v, attention output, intermediate, output
        Assert.All(exported.Layers.Values, l => Assert.True(l.InputScale > 0));
        Assert.All(student.Model.modules(), m => Assert.IsNotType<FakeQuantLinear>(m));
        Assert.Equal(9, Losses(_dir).Count);
        // The final student (plain keys) saves as a Hugging Face folder like any other.
        HuggingFaceFolder.Save(student, Path.Combine(_dir, "student"));
    }

    [Fact]
    public void FakeQuantForwardEqualsTheExportedModelsSimulation()
    {
        var (teacher, student) = Models();
        var config = Config();
        var result = new Distiller(config.DistillPlan(), teacher, student, Corpus, new DistillerOptions(_dir)).Run();
        var exported = QuantizedModelFile.Load(result.Artifact!);

        // The last checkpoint holds the fake-quant student (weights + EMA ranges) as it ended the stage.
        var (_, fresh) = Models();
        using var session = QatSession.Start(fresh, config.Stages[1].Qat!, config.QuantizeSection(), null, 0);
        DistillCheckpoint.LoadStudent(DistillCheckpoint.Latest(_dir)!, fresh.Model);
        fresh.Model.eval();
        var simulated = EncoderQuantizer.Simulated(student, exported);
        var batch = student.Tokenizer.EncodeBatch(Corpus.Take(8).ToList());
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var fakeQuant = fresh.Forward(batch).HiddenStates[^1];
        var simulation = simulated.Forward(batch).HiddenStates[^1];
        // Same rounding in both (FakeQuantFunction = QuantReference = TensorQuant); what may differ is
        // float summation order inside linear(); 1e-5 absolute on hidden states of magnitude ~1.
        var diff = (fakeQuant - simulation).abs().max().item<float>();
        Assert.True(diff <= 1e-5f, $"max |fake-quant − simulation| = {diff}");
    }

    [Fact]
    public void ResumingInsideTheQatStageGivesTheSameLossesAndExport()
    {
        string straight = Path.Combine(_dir, "straight"), split = Path.Combine(_dir, "split");
        var (t1, s1) = Models();
        new Distiller(Config().DistillPlan(), t1, s1, Corpus, new DistillerOptions(straight)).Run();

        var (t2, s2) = Models();
        var first = new Distiller(Config().DistillPlan(), t2, s2, Corpus, new DistillerOptions(split, MaxSteps: 5)).Run();
        Assert.Equal(5, first.GlobalStep);                        // 3 float + 2 QAT steps
        Assert.Null(first.Artifact);
        Assert.Contains(Safetensors.Read(Path.Combine(DistillCheckpoint.Latest(split)!, "student.safetensors")).Tensors.Keys,
            k => k.EndsWith(".input_range"));
        var (t3, s3) = Models();
        var second = new Distiller(Config().DistillPlan(), t3, s3, Corpus, new DistillerOptions(split, Resume: true)).Run();
        Assert.Equal(9, second.GlobalStep);

        Assert.Equal(Losses(straight), Losses(split));
        Assert.Equal(File.ReadAllBytes(QatSession.ExportPath(straight)), File.ReadAllBytes(QatSession.ExportPath(split)));
    }
}
