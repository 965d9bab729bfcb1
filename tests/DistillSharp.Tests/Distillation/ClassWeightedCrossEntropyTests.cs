using DistillSharp.Config.Yaml;
using DistillSharp.Config;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

/// <summary>ce's <c>class_weights</c>: the weights, the weighted loss against hand values and libtorch, the wiring through the Distiller.</summary>
public sealed class ClassWeightedCrossEntropyTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ce-weights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static double Ce(TaskCrossEntropyLoss term, Tensor logits, Tensor labels, Tensor mask) =>
        Item(term.Compute(Output(mask, logits: logits), Output(mask), new LossBatch { AttentionMask = mask, Labels = labels }).Loss);

    [Fact]
    public void WeightsMatchHandValues()
    {
        // Counts (3, 1, 0), N = 4, C = 2 classes with texts. balanced: N / (C·n_c) = 2/3, 2 (scikit-learn's
        // compute_class_weight("balanced") over the classes present; Σ_c n_c·w_c = N); an empty class weighs 0.
        var balanced = TaskCrossEntropyLoss.Weights("balanced", [3, 1, 0])!;
        Assert.Equal(2.0 / 3, balanced[0], 12);
        Assert.Equal(2.0, balanced[1], 12);
        Assert.Equal(0, balanced[2]);
        // sqrt: k/√3, k/1 with 3·k/√3 + 1·k = 4 → k = 4 / (√3 + 1).
        double k = 4 / (Math.Sqrt(3) + 1);
        var sqrt = TaskCrossEntropyLoss.Weights("sqrt", [3, 1, 0])!;
        Assert.Equal(k / Math.Sqrt(3), sqrt[0], 12);
        Assert.Equal(k, sqrt[1], 12);
        Assert.Equal(0, sqrt[2]);
        Assert.Null(TaskCrossEntropyLoss.Weights("none", [3, 1, 0]));
        var e = Assert.Throws<DistillSharpException>(() => TaskCrossEntropyLoss.Weights("balanced", [0, 0]));
        Assert.Contains("needs labelled training texts", e.Message);
    }

    [Fact]
    public void WeightedLossMatchesHandValue()
    {
        using var scope = NewDisposeScope();
        // Example 0: logits (ln 2, 0), label 0 → p_0 = 2/3; example 1: logits (0, 0), label 1 → p_1 = 1/2.
        // w = (1/2, 2): L = (½·ln(3/2) + 2·ln 2) / (½ + 2).
        var logits = D([Math.Log(2), 0, 0, 0], 2, 2);
        var labels = tensor(new long[] { 0, 1 });
        var mask = Mask([1], [1]);
        double expected = (0.5 * Math.Log(1.5) + 2 * Math.Log(2)) / 2.5;
        Assert.Equal(expected, Ce(new TaskCrossEntropyLoss(0, [0.5, 2]), logits, labels, mask), 12);
        // Unweighted it is the plain mean, (ln(3/2) + ln 2) / 2, and weights (1, 1) give the same.
        Assert.Equal((Math.Log(1.5) + Math.Log(2)) / 2, Ce(new TaskCrossEntropyLoss(0), logits, labels, mask), 12);
        Assert.Equal((Math.Log(1.5) + Math.Log(2)) / 2, Ce(new TaskCrossEntropyLoss(0, [1, 1]), logits, labels, mask), 12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public void WeightedLossMatchesLibtorchCrossEntropy(double smoothing)
    {
        using var scope = NewDisposeScope();
        var logits = Randn(21, 6, 4);
        var labels = tensor(new long[] { 0, 3, -100, 1, 3, 2 });
        var mask = Mask([1], [1], [1], [1], [1], [1]);
        double[] w = [0.3, 2.5, 1.0, 0.7];
        // libtorch's own cross_entropy(weight, ignore_index = −100, mean, label_smoothing) is the reference.
        var reference = nn.functional.cross_entropy(logits, labels, tensor(w, ScalarType.Float64), label_smoothing: smoothing);
        var term = new TaskCrossEntropyLoss(smoothing, w);
        Assert.Equal(Item(reference), Ce(term, logits, labels, mask), 12);
        GradCheck(x => term.Compute(Output(mask, logits: x), Output(mask), new LossBatch { AttentionMask = mask, Labels = labels }).Loss, logits);
    }

    [Fact]
    public void BadClassWeightsAreOneClearError()
    {
        var e = Assert.Throws<ConfigException>(() => LossRegistry.Get("ce").Settings(("class_weights", "inverse")));
        Assert.Contains("ce.class_weights", e.Message);
        Assert.Contains("one of none, balanced, sqrt", e.Message);
        var context = new LossContext(new ModelShape(1, 4, 1, 8), new ModelShape(1, 4, 1, 8));
        var missing = Assert.Throws<DistillSharpException>(() => LossRegistry.Get("ce").Build(context, ("class_weights", "balanced")));
        Assert.Equal("loss 'ce': class_weights: balanced needs labelled training texts, and this corpus has none", missing.Message);
        using var scope = NewDisposeScope();
        var wrongWidth = Assert.Throws<DistillSharpException>(() =>
            Ce(new TaskCrossEntropyLoss(0, [1, 1]), D([0, 0, 0], 1, 3), tensor(new long[] { 0 }), Mask([1])));
        Assert.Equal("loss 'ce': 2 class weights for 3 classes", wrongWidth.Message);
    }

    [Fact]
    public void TheDistillerWeighsByTheCorpusClassCounts()
    {
        // 7 texts in one batch, labels 0 ×4, 1 ×2, 2 ×1: balanced w = 7 / (3·n) = (7/12, 7/6, 7/3).
        string[] texts = ["cat the big", "dog a red", "bird is it", "fish and blue", "house the mat", "tree a small", "ran and it"];
        long[] labels = [0, 0, 0, 0, 1, 1, 2];
        using var model = TinyModels.Classifier(seed: 6);
        var p = model.Probabilities(texts);
        double[] w = [7.0 / 12, 7.0 / 6, 7.0 / 3];
        double expected = labels.Select((y, i) => w[y] * -Math.Log(p[i][y])).Sum() / labels.Sum(y => w[y]);
        double plain = labels.Select((y, i) => -Math.Log(p[i][y])).Average();
        Assert.True(Math.Abs(expected - plain) > 1e-3, "the tiny model must tell the two apart");
        var ce = new LossSpec("ce", 1.0, LossRegistry.Get("ce").Settings(("class_weights", "balanced")));
        var plan = new DistillPlan([new StageConfig
        {
            Name = "s", Steps = 1, Losses = [ce], Optimizer = new OptimizerConfig(Lr: 1e-3), LogEvery = 1,
        }], DefaultBatch: 7, Seed: 1);
        Assert.True(new Distiller(plan, null, model, texts, new DistillerOptions(_dir), labels).Run().Completed);
        var first = MetricsLog.Read(Path.Combine(_dir, "metrics.jsonl"))[0];
        Assert.Equal(expected, first["loss/ce"].GetDouble(), 5);
    }
}
