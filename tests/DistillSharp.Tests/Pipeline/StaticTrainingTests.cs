using DistillSharp.Data;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Evaluation;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Static;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Runtime;
using DistillSharp.Runtime.Static;
using DistillSharp.Tests.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DistillSharp.Tests.Pipeline;

/// <summary><c>student.train</c>: the static table trained on a corpus against the teacher (tiny teacher, fixed seed).</summary>
public sealed class StaticTrainingTests
{
    static EvalData Eval() => new(() => SyntheticData.WordNet(30), () => SyntheticData.Mails(4, 4), evaluationSynsets: 8);

    // Seeded sentences over the tiny vocabulary, 3–10 words each.
    static List<string> Corpus(int count, ulong seed)
    {
        var random = new SplitMix64(seed);
        var words = TinyModels.Words.Where(w => !w.StartsWith("##")).ToArray();
        return [.. Enumerable.Range(0, count).Select(_ => string.Join(" ", Enumerable.Range(0, 3 + random.NextInt(8)).Select(_ => words[random.NextInt(words.Length)])))];
    }

    static StaticStudent Train(IReadOnlyList<string> corpus, int steps, double contrastive = 0)
    {
        using var teacher = TinyModels.Encoder(seed: 11);
        var options = new StaticBuildOptions(Dims: 8, SifCoefficient: 0.05, Batch: 16, MaxLength: 32, Train: new StaticTrainOptions(steps, 0.05, 32, 150, contrastive));
        return StaticTraining.Build(teacher, options, corpus, Eval(), texts => teacher.Embed(texts), teacherKey: null, seed: 7, TextWriter.Null);
    }

    [Fact]
    public void TrainingLowersTheLossAndIsRepeatable()
    {
        var corpus = Corpus(200, 3);
        var built = Train(corpus, 80);
        var t = Assert.IsType<StaticTrainingSummary>(built.Training);
        Assert.Equal((150, 80), (t.Texts, t.Steps));
        Assert.True(t.LossAfter < 0.7 * t.LossBefore, $"1 − cos {t.LossBefore:F4} → {t.LossAfter:F4}");
        Assert.Equal(t.LossAfter, Train(corpus, 80).Training!.LossAfter, 6);                 // same seed, same table
        var withContrastive = Train(corpus, 80, contrastive: 1).Training!;                      // the cosine part still falls
        Assert.True(withContrastive.LossAfter < 0.7 * withContrastive.LossBefore, $"{withContrastive.LossBefore:F4} → {withContrastive.LossAfter:F4}");
        Assert.NotEqual(t.LossAfter, withContrastive.LossAfter, 6);
        Assert.Equal("8", built.BuildInfo("tiny", new StaticBuildOptions(Dims: 8)).GetValueOrDefault("pca_dims"));
        Assert.Equal("80", built.BuildInfo("tiny", new StaticBuildOptions(Dims: 8))["train_steps"]);
    }

    [Fact]
    public void TheObjectiveIsTheMeanOneMinusCosineOverCountedTokens()
    {
        // vocab 4, dims 2; token 0 skipped. Text [1, 2] → mean (1, 1)/… of rows (1,0),(0,1); target (1, 1): cos 1.
        var table = new StaticTable([9, 9, 1, 0, 0, 1, 0, -1], vocab: 4, dims: 2);
        bool[] skip = [true, false, false, false];
        double same = StaticTableObjective.MeanLoss(table, [[0, 1, 2]], [[1f, 1f]], skip);
        Assert.Equal(0, same, 6);
        // Text [1, 3] → mean (0.5, −0.5), orthogonal to (1, 1): loss 1; both texts: 0.5.
        Assert.Equal(1, StaticTableObjective.MeanLoss(table, [[1, 3]], [[1f, 1f]], skip), 6);
        Assert.Equal(0.5, StaticTableObjective.MeanLoss(table, [[0, 1, 2], [1, 3]], [[1f, 1f], [1f, 1f]], skip), 6);
        Assert.Equal(new float[] { 9, 9, 1, 0, 0, 1, 0, -1 }, table.Rows());
    }

    [Fact]
    public void TheVocabularyPassOnOnnxRuntimeEqualsTorchSharp()
    {
        using var teacher = TinyModels.Encoder(seed: 12);
        var options = new StaticBuildOptions(Dims: 8, Batch: 9, MaxLength: 32);
        var torch = StaticStudentBuilder.TeacherTokens(teacher, options);
        var graph = OnnxExporter.BuildFp32(teacher.Model, new OnnxExportOptions(Pooling: teacher.Pooling, Normalize: teacher.Normalize));
        using var ort = new DistillSharp.Models.Encoder.OnnxRuntimeEncoder(graph.ToByteArray(), threads: 1);
        var viaOrt = StaticStudentBuilder.TeacherTokens(teacher, options, meanPooled: b => StaticTraining.MeanPooled(ort, b));
        Assert.Equal(torch.Kept, viaOrt.Kept);
        for (int r = 0; r < torch.Kept.Length; r++)
            for (int j = 0; j < torch.Vectors[r].Length; j++)
                Assert.True(Math.Abs(torch.Vectors[r][j] - viaOrt.Vectors[r][j]) < 1e-4, $"token {torch.Kept[r]} value {j}: {torch.Vectors[r][j]} vs {viaOrt.Vectors[r][j]}");
    }

    [Fact]
    public void TrainingTextsNeverIncludeAnEvaluationText()
    {
        var eval = Eval();
        string definition = eval.WordNet.Evaluation[0].Definition, lemmas = eval.WordNet.Evaluation[1].LemmaList;
        string mail = eval.Mails.Test[0].Mail.Subject;
        var texts = StaticTraining.TrainingTexts(["the cat", definition, "a dog", lemmas, mail, "the cat"], eval, 10, seed: 1);
        Assert.Equal(["a dog", "the cat"], texts.Order());
    }

    [Fact]
    public void TheTrainedTableSavesLoadsAndExportsConsistently()
    {
        var built = Train(Corpus(200, 5), 40);
        string dir = Path.Combine(Path.GetTempPath(), "ds-static-train-" + Guid.NewGuid().ToString("N"));
        try
        {
            StaticEncoderFile.Save(built.Encoder, dir, built.BuildInfo("tiny", new StaticBuildOptions(Dims: 8)));
            var loaded = StaticEncoderFile.Load(dir);
            string[] texts = ["the cat sat on the mat .", "a big red dog ran fast and the small blue bird was slow", "fish", ""];
            var expected = built.Encoder.Embed(texts);
            var again = loaded.Embed(texts);
            for (int i = 0; i < texts.Length; i++) Assert.Equal(expected[i], again[i]);
            Assert.Contains("\"train_steps\": \"40\"", File.ReadAllText(Path.Combine(dir, StaticEncoderFile.RuntimeFile)));

            var batch = loaded.Tokenizer.EncodeBatch(texts);
            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(StaticOnnxExporter.Build(loaded).ToByteArray(), options);
            var dims = new[] { batch.Count, batch.Length };
            DenseTensor<long> T(long[,] a) => new(a.Cast<long>().ToArray(), dims);
            using var results = session.Run([
                NamedOnnxValue.CreateFromTensor("input_ids", T(batch.InputIds)),
                NamedOnnxValue.CreateFromTensor("attention_mask", T(batch.AttentionMask)),
            ]);
            var ort = Assert.Single(results).AsTensor<float>().ToArray();
            var flat = expected.SelectMany(v => v).ToArray();
            Assert.Equal(flat.Length, ort.Length);
            for (int i = 0; i < ort.Length; i++) Assert.True(Math.Abs(ort[i] - flat[i]) < 1e-6, $"value {i}: ORT {ort[i]}, runtime {flat[i]}");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
