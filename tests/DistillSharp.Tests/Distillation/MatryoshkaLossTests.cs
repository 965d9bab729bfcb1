using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Config.Yaml;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Encoder;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public sealed class MatryoshkaLossTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("matryoshka-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static MatryoshkaLoss Term(int width, int[] dims, double temperature = 0.05, bool centre = true) =>
        (MatryoshkaLoss)LossRegistry.Get("matryoshka").Build(Context(hiddenS: width, hiddenT: width),
            ("dims", dims), ("temperature", temperature), ("centre", centre));

    static Tensor Loss(ILossTerm term, Tensor s, Tensor t)
    {
        var mask = ones(s.shape[0], 1, ScalarType.Int64);
        return term.Compute(Output(mask, pooled: s), Output(mask, pooled: t), new LossBatch { AttentionMask = mask }).Loss;
    }

    static float[][] Rows(Tensor x) =>
        Enumerable.Range(0, (int)x.shape[0]).Select(i => x[i].to_type(ScalarType.Float32).data<float>().ToArray()).ToArray();

    static double[] Unit(double[] v) { var n = Math.Sqrt(v.Sum(x => x * x)); return v.Select(x => x / n).ToArray(); }

    static double Dot(double[] a, double[] b) => a.Zip(b).Sum(x => x.First * x.Second);

    // Scalar reference: 1/B Σ_i KL(softmax_{j≠i}(t_i·t_j/τt) ‖ softmax_{j≠i}(s_i·s_j/τs)) on unit rows.
    static double Reference(double[][] s, double[][] t, double tauT, double tauS)
    {
        double sum = 0;
        for (int i = 0; i < s.Length; i++)
        {
            var others = Enumerable.Range(0, s.Length).Where(j => j != i).ToArray();
            sum += Kl(Softmax(others.Select(j => Dot(t[i], t[j])).ToArray(), tauT), Softmax(others.Select(j => Dot(s[i], s[j])).ToArray(), tauS));
        }
        return sum / s.Length;
    }

    // Scalar reference of the spread σ: mean over rows of the population std of u_i·u_j over j ≠ i.
    static double Spread(double[][] u) => Enumerable.Range(0, u.Length).Average(i =>
    {
        var v = Enumerable.Range(0, u.Length).Where(j => j != i).Select(j => Dot(u[i], u[j])).ToArray();
        return Math.Sqrt(v.Average(x => x * x) - v.Average() * v.Average());
    });

    [Fact]
    public void MatchesAHandCheckedValueInAKnownBasis()
    {
        using var scope = NewDisposeScope();
        // Fit rows (±1, 0) twice and (0, ±1) once: mean 0, covariance diag(0.8, 0.4), so the first
        // principal direction is x and the second y (sign: the largest entry positive).
        double[][] fit = [[1, 0], [-1, 0], [1, 0], [-1, 0], [0, 1], [0, -1]];
        var term = Term(2, [1, 2], temperature: 0.5);
        term.Fit([.. fit.Select(r => r.Select(v => (float)v).ToArray())]);
        Assert.Equal(new[] { 1f, 0f, 0f, 1f }, term.Basis!.Components.Select(v => MathF.Round(v, 6)));
        // τ_d = τ·σ_d/σ: in the first direction the (0, ±1) rows have nothing left (cosines 0) while
        // the (±1, 0) rows keep theirs, so σ_1 = 4/6 of the (±1, 0) rows' √0.56, σ = (4·√0.56 + 2·0.4)/6.
        double tau1 = 0.5 * (4 * Math.Sqrt(0.56) / 6) / ((4 * Math.Sqrt(0.56) + 2 * 0.4) / 6);
        Assert.Equal(0.5 * Spread([[1], [-1], [1], [-1], [0], [0]]) / Spread(fit), tau1, 12);
        Assert.Equal(tau1, term.Temperatures[0], 10);
        Assert.Equal(0.5, term.Temperatures[1], 10);
        double[][] student = [[2, 1], [-1, 3], [1, -1]], teacher = [[1, 0], [0, 1], [1, 1]];
        var mask = ones(3, 1, ScalarType.Int64);
        var loss = term.Compute(Output(mask, pooled: D([.. student.SelectMany(r => r)], 3, 2)),
            Output(mask, pooled: D([.. teacher.SelectMany(r => r)], 3, 2)), new LossBatch { AttentionMask = mask });
        // d = 1 keeps the x coordinate only, so the unit prefixes are the signs +1, −1, +1: S rows
        // (−1, 1), (−1, −1), (1, −1) over τ_1. The teacher's cosines t0·t1 = 0, t0·t2 = t1·t2 = 1/√2 give
        // T rows (0, √2), (0, √2), (√2, √2) at τ = 0.5.
        double r = Math.Sqrt(2);
        double first = (Kl(Softmax([0, r]), Softmax([-1 / tau1, 1 / tau1]))
            + Kl(Softmax([0, r]), [0.5, 0.5])
            + Kl([0.5, 0.5], Softmax([1 / tau1, -1 / tau1]))) / 3;
        // d = 2 is the whole (identity) basis: the student's own cosines, from the scalar reference.
        double full = Reference(student.Select(Unit).ToArray(), teacher.Select(Unit).ToArray(), 0.5, 0.5);
        Assert.Equal(first, loss.Scalars["matryoshka/1"], 10);
        Assert.Equal(full, loss.Scalars["matryoshka/2"], 10);
        Assert.Equal((first + full) / 2, Item(loss.Loss), 10);
    }

    [Fact]
    public void IsZeroForTheTeacherItselfAtFullWidth()
    {
        using var scope = NewDisposeScope();
        var teacher = Randn(3, 6, 4);
        var fit = Rows(Randn(4, 20, 4));
        var uncentred = Term(4, [4], centre: false);
        uncentred.Fit(fit);
        Assert.True(Math.Abs(Item(Loss(uncentred, teacher, teacher))) < 1e-9);
        // Centred on a mean that is not 0, the full-width rows are no longer the teacher's cosines.
        var centred = Term(4, [4]);
        centred.Fit(fit.Select(r => r.Select(v => v + 0.5f).ToArray()).ToArray());
        Assert.True(Item(Loss(centred, teacher, teacher)) > 1e-4);
        // Fewer directions than the width lose part of the ranking.
        var cut = Term(4, [2], centre: false);
        cut.Fit(fit);
        Assert.True(Item(Loss(cut, teacher, teacher)) > 1e-4);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var term = Term(3, [3, 2, 1], temperature: 0.3);
        term.Fit(Rows(Randn(11, 12, 3)));
        var t = Randn(12, 5, 3);
        GradCheck(x => Loss(term, x, t), Randn(13, 5, 3));
    }

    [Fact]
    public void KeysAndShapesAreChecked()
    {
        var e = Assert.Throws<ConfigException>(() => LossRegistry.Get("matryoshka").Settings(("dims", Array.Empty<int>())));
        Assert.Equal("matryoshka.dims must be a non-empty list of distinct integers >= 1, got []", e.Message);
        Assert.Throws<ConfigException>(() => LossRegistry.Get("matryoshka").Settings(("dims", new[] { 64, 64 })));
        Assert.Throws<ConfigException>(() => LossRegistry.Get("matryoshka").Settings(("dims", "128")));
        Assert.Throws<ConfigException>(() => LossRegistry.Get("matryoshka").Settings(("temperature", 0.0)));
        var wide = Assert.Throws<DistillSharpException>(() => Term(4, [8, 2]));
        Assert.Equal("loss 'matryoshka': dims must be in [1, 4] (the pooled width), got [8, 2]", wide.Message);
        var widths = Assert.Throws<DistillSharpException>(() => LossRegistry.Get("matryoshka").Build(Context(hiddenS: 4, hiddenT: 6), ("dims", new[] { 2 })));
        Assert.StartsWith("loss 'matryoshka' needs the student's pooled width (4) to equal the teacher's (6)", widths.Message);
        var unfitted = Assert.Throws<DistillSharpException>(() => Loss(Term(2, [1]), ones(3, 2), ones(3, 2)));
        Assert.StartsWith("loss 'matryoshka' has no basis yet", unfitted.Message);
    }

    [Fact]
    public void RunPreflightRefusesDimsWiderThanTheStudentBeforeTraining()
    {
        var config = ConfigLoader.Parse<RunConfig>("teacher: { source: builtin:all-MiniLM-L6-v2 }\n" +
            "stages: [{ name: a, steps: 1, losses: { embedding_cosine: 1 } }, { name: b, steps: 1, losses: { matryoshka: { weight: 1, dims: [128, 512] } } }]");
        var options = new DistillSharp.Pipeline.Encoder.RunOptions(Path.Combine(_dir, "run"), null, false, null, TextWriter.Null);
        var e = Assert.Throws<DistillSharpException>(() => DistillSharp.Pipeline.Encoder.RunPreflight.Check(config, options));
        Assert.Equal("stages[1].losses.matryoshka.dims has 512, more than the pooled width 384 (student.hidden)", e.Message);
    }

    [Fact]
    public void DimsRoundTripThroughTheConfigWriter()
    {
        var yaml = "teacher: { source: builtin:all-MiniLM-L6-v2 }\nstages: [{ name: a, steps: 1, losses: { embedding_cosine: 1 } }]";
        var config = ConfigLoader.Parse<RunConfig>(yaml, ["stages[0].losses.matryoshka={weight: 1, dims: [128, 64]}"]);
        var spec = config.Stages[0].Losses.Single(l => l.Name == "matryoshka");
        Assert.Equal(new[] { 128, 64 }, spec.Settings.Ints("dims"));
        var again = ConfigLoader.Parse<RunConfig>(ConfigWriter.Write(config));
        Assert.Equal(new[] { 128, 64 }, again.Stages[0].Losses.Single(l => l.Name == "matryoshka").Settings.Ints("dims"));
    }

    [Fact]
    public void TrainsInADistillerStageAndLogsEachPrefix()
    {
        var config = ConfigLoader.Parse<RunConfig>("""
            teacher: { source: tiny }
            student: { layers: 1, hidden: 32, heads: 4, ffn: 64 }
            data: { corpus: test, max_len: 32, batch: 8 }
            stages:
              - { name: out, steps: 3, log_every: 1, losses: { embedding_cosine: 1, matryoshka: { weight: 1, dims: [16, 4], temperature: 0.1, fit_texts: 20 } } }
            seed: 3
            """);
        var teacher = TinyModels.Encoder(seed: 1);
        var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, new StudentSpec(1, TeacherLayers: [1]), seed: 5),
            teacher.Tokenizer, Pooling.Mean, normalize: true, "student");
        var corpus = Enumerable.Range(0, 40).Select(i => string.Join(' ', Enumerable.Range(0, 2 + i % 7).Select(j => TinyModels.Words[(i * 5 + j * 3) % 26]))).ToArray();
        var result = new Distiller(config.DistillPlan(), teacher, student, corpus, new DistillerOptions(_dir, CacheRoot: Path.Combine(_dir, "cache"))).Run();
        Assert.True(result.Completed);
        var records = MetricsLog.Read(Path.Combine(_dir, "metrics.jsonl"));
        Assert.Equal(3, records.Count);
        foreach (var key in new[] { "loss/matryoshka", "loss/matryoshka/16", "loss/matryoshka/4" })
            Assert.All(records, r => Assert.True(double.IsFinite(r[key].GetDouble()), key));
        // The fit read the stage's first 20 texts (3 batches of 8) through the cache; training then hit them there.
        Assert.True(result.CacheHits > 0, $"hits {result.CacheHits}, misses {result.CacheMisses}");
    }
}
