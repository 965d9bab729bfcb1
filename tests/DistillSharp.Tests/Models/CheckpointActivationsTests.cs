using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models;

/// <summary>
/// Activation checkpointing must not change a single gradient: every test runs the same seeded
/// computation with and without it and compares all parameter (and input) gradients. The reference
/// is the ordinary autograd graph of the same layer, so no golden numbers are needed.
/// </summary>
public sealed class CheckpointActivationsTests
{
    // Recomputation repeats the same float32 kernels on the same inputs; only the order in which the
    // engine sums gradient contributions may differ (measured: max |Δ| 1.5e-8, on the word embeddings).
    const double GradientLimit = 1e-6;

    static BertEncoderModel Model(double dropout = 0)
    {
        var config = TinyModels.Config() with { HiddenDropoutProb = dropout, AttentionProbsDropoutProb = dropout };
        manual_seed(11);
        var model = new BertEncoderModel(config);
        model.train();
        return model;
    }

    static (Tensor Ids, Tensor Mask) Batch()
    {
        manual_seed(12);
        var ids = randint(5, 35, [3, 10], dtype: ScalarType.Int64);
        var mask = ones(3, 10, ScalarType.Int64);
        mask[1, TensorIndex.Slice(7)] = 0; // padding, so the additive mask matters
        mask[2, TensorIndex.Slice(4)] = 0;
        return (ids, mask);
    }

    /// <summary>A loss touching every output a distillation loss may use: hidden states, probabilities, Q/K/V, pooled.</summary>
    static Tensor Loss(ModelOutput o)
    {
        var loss = o.LastHiddenState.pow(2).mean() + o.HiddenStates[1].sin().mean();
        for (int l = 0; l < o.Layers; l++)
            loss = loss + (o.Attentions[l] + 0.01).log().mean() * 0.3;
        loss = loss + o.Queries![0].matmul(o.Keys![0].transpose(-1, -2)).softmax(-1).pow(2).mean()
                    + o.Values![1].abs().mean() + o.Queries[1].mean() * 0.1;
        return loss;
    }

    /// <summary>Parameter name → gradient (null when none) after one backward of <see cref="Loss"/>.</summary>
    static Dictionary<string, float[]?> Gradients(BertEncoderModel model, bool checkpoint, int seed = 5)
    {
        using var scope = NewDisposeScope();
        model.CheckpointActivations = checkpoint;
        model.zero_grad();
        var (ids, mask) = Batch();
        manual_seed(seed);
        Loss(model.Forward(ids, mask, withQkv: true)).backward();
        return model.named_parameters().ToDictionary(np => np.name, np => np.parameter.grad?.data<float>().ToArray());
    }

    static void AssertSame(Dictionary<string, float[]?> expected, Dictionary<string, float[]?> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            if (e is null) { Assert.Null(a); continue; }
            Assert.NotNull(a);
            double worst = e.Zip(a!, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(worst <= GradientLimit, $"{name}: max |Δgrad| = {worst:E2}");
        }
    }

    [Fact]
    public void GradientsOfAllParametersMatchWithoutDropout()
    {
        using var model = Model();
        var plain = Gradients(model, checkpoint: false);
        var checkpointed = Gradients(model, checkpoint: true);
        Assert.All(plain.Where(kv => !kv.Key.StartsWith("pooler.")), kv => Assert.NotNull(kv.Value)); // all but the unused pooler
        AssertSame(plain, checkpointed);
    }

    [Fact]
    public void GradientsMatchWithDropoutAndTheRandomStreamContinuesUnchanged()
    {
        using var model = Model(dropout: 0.2);
        var plain = Gradients(model, checkpoint: false);
        float afterPlain = rand(1).item<float>();
        var checkpointed = Gradients(model, checkpoint: true);
        float afterCheckpointed = rand(1).item<float>();
        AssertSame(plain, checkpointed);
        Assert.Equal(afterPlain, afterCheckpointed);

        // Dropout really is active: another seed gives other gradients.
        var other = Gradients(model, checkpoint: true, seed: 6);
        var name = "encoder.layer.0.attention.self.query.weight";
        Assert.NotEqual(plain[name], other[name]);
    }

    [Fact]
    public void FrozenParametersGetNoGradientAndTheOthersMatch()
    {
        using var model = Model();
        foreach (var (name, p) in model.named_parameters())
            p.requires_grad = !name.StartsWith("embeddings.") && !name.StartsWith("encoder.layer.0.attention");
        var plain = Gradients(model, checkpoint: false);
        var checkpointed = Gradients(model, checkpoint: true);
        Assert.Null(checkpointed["encoder.layer.0.attention.self.key.weight"]);
        Assert.NotNull(checkpointed["encoder.layer.0.intermediate.dense.weight"]);
        AssertSame(plain, checkpointed);
    }

    [Fact]
    public void InputGradientMatchesWhenOnlySomeOutputsAreUsed()
    {
        using var scope = NewDisposeScope();
        using var model = Model(dropout: 0.1);
        var layer = model.Layers[1];
        manual_seed(3);
        var x0 = randn(2, 6, 32);
        using var additive = BertEncoderModel.AdditiveMask(ones(2, 6, ScalarType.Int64));

        (float[] X, float[] Weight) Run(bool checkpoint)
        {
            using var inner = NewDisposeScope();
            model.zero_grad();
            var x = x0.clone().requires_grad_(true);
            manual_seed(4);
            var (_, probs, q, _, _) = checkpoint ? CheckpointedBertLayer.Run(layer, x, additive) : layer.forward(x, additive);
            Assert.NotNull(q);
            (probs.pow(2).sum() + q!.sum()).backward(); // the hidden output gets no gradient at all
            var weight = layer.named_parameters().First(np => np.name == "attention.self.query.weight").parameter;
            return (x.grad!.data<float>().ToArray(), weight.grad!.data<float>().ToArray());
        }

        var plain = Run(checkpoint: false);
        var checkpointed = Run(checkpoint: true);
        Assert.True(plain.X.Zip(checkpointed.X, (a, b) => Math.Abs(a - b)).Max() <= GradientLimit);
        Assert.True(plain.Weight.Zip(checkpointed.Weight, (a, b) => Math.Abs(a - b)).Max() <= GradientLimit);
        Assert.Contains(plain.X, v => v != 0);
    }

    [Fact]
    public void GradientsAccumulateOverTwoBackwards()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var once = Gradients(model, checkpoint: true);
        model.CheckpointActivations = true;
        model.zero_grad();
        var (ids, mask) = Batch();
        for (int i = 0; i < 2; i++) Loss(model.Forward(ids, mask, withQkv: true)).backward();
        foreach (var (name, p) in model.named_parameters().Where(np => np.parameter.grad is not null))
        {
            var twice = p.grad!.data<float>().ToArray();
            Assert.True(once[name]!.Zip(twice, (a, b) => Math.Abs(2 * a - b)).Max() <= 2 * GradientLimit, name);
        }
    }

    [Fact]
    public void WithoutGradientsTheOutputsAreTheOrdinaryOnes()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        model.eval();
        var (ids, mask) = Batch();
        ModelOutput plain, checkpointed;
        model.CheckpointActivations = false;
        plain = model.Forward(ids, mask, withQkv: true);
        model.CheckpointActivations = true;
        checkpointed = model.Forward(ids, mask, withQkv: true);
        Assert.True(eq(plain.LastHiddenState, checkpointed.LastHiddenState).all().item<bool>());
        Assert.True(eq(plain.Attentions[1], checkpointed.Attentions[1]).all().item<bool>());
        Assert.True(eq(plain.Keys![0], checkpointed.Keys![0]).all().item<bool>());
        using (no_grad())
        {
            var noGrad = model.Forward(ids, mask);
            Assert.False(noGrad.LastHiddenState.requires_grad);
            Assert.True(eq(plain.LastHiddenState, noGrad.LastHiddenState).all().item<bool>());
        }
    }
}
