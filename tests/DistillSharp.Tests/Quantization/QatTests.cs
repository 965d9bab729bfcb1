using DistillSharp.Quantization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Quantization;

public class QatTests
{
    [Fact]
    public void RegisterModuleAloneDoesNotRerouteForward()
    {
        // The TorchSharp 0.107 fact LinearSwap is built around: register_module changes named_children, not forward.
        using var scope = NewDisposeScope();
        var model = new FieldMlp();
        var x = randn(2, TinyMlp.In);
        var before = model.call(x);
        model.register_module("fc1", null!);
        model.register_module("fc1", nn.Linear(TinyMlp.In, TinyMlp.Hidden));
        Assert.True(allclose(before, model.call(x)));
    }

    [Fact]
    public void SequentialMlpIsRebuiltAndOutputChangesOnlyByQuantizationNoise()
    {
        using var scope = NewDisposeScope();
        var model = TinyMlp.Sequential();
        var x = TinyMlp.Batches(1)[0];
        var reference = model.call(x);
        var swap = FakeQuantLinear.Prepare(model);
        Assert.NotSame(model, swap.Root);
        Assert.Equal(new[] { "fc1", "fc2" }, swap.Swaps.Select(s => s.Name));
        Assert.IsType<Linear>(model.named_children().First().module);      // the original is untouched
        var y = ((nn.Module<Tensor, Tensor>)swap.Root).call(x);
        var (sqnr, _) = SensitivityAnalyzer.Compare(reference, y);
        Assert.InRange(sqnr, 30, 70);                                       // noisy, but only by int8 noise
        Assert.Equal(model.parameters().Count(), swap.Root.parameters().Count());
    }

    [Theory]
    [InlineData(ActivationQuantMethod.Ema)]
    [InlineData(ActivationQuantMethod.Lsq)]
    public void TrainingAFewStepsReducesLoss(ActivationQuantMethod method)
    {
        using var scope = NewDisposeScope();
        var teacher = TinyMlp.Sequential(seed: 99);
        var student = TinyMlp.Sequential(seed: 11);
        var swap = FakeQuantLinear.Prepare(student, new FakeQuantOptions(Method: method));
        var qat = (nn.Module<Tensor, Tensor>)swap.Root;
        var batches = TinyMlp.Batches(4);
        var optimizer = optim.Adam(qat.parameters(), lr: 0.01);
        double Loss(Tensor x) => nn.functional.mse_loss(qat.call(x), teacher.call(x).detach()).item<float>();
        var first = Loss(batches[0]);
        for (var step = 0; step < 30; step++)
        {
            using var s = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(qat.call(batches[step % 4]), teacher.call(batches[step % 4]).detach());
            loss.backward();
            optimizer.step();
        }
        Assert.True(Loss(batches[0]) < 0.7 * first, $"loss {first} → {Loss(batches[0])}");
        if (method == ActivationQuantMethod.Lsq)
            Assert.Contains(qat.named_parameters(), p => p.name == "fc1.input_scale");
    }

    [Fact]
    public void FrozenObserversStopMoving()
    {
        using var scope = NewDisposeScope();
        var layer = new FakeQuantLinear(nn.Linear(4, 2));
        layer.call(ones(3, 4));
        Assert.Equal(1, FakeQuantLinear.FreezeAll(layer));
        var before = layer.InputQParams!.Scale;
        layer.call(ones(3, 4) * 10);
        Assert.Equal(before, layer.InputQParams!.Scale);
    }

    [Fact]
    public void FieldModelIsSwappedInPlaceAndRestored()
    {
        using var scope = NewDisposeScope();
        var model = new FieldMlp();
        var keys = model.state_dict().Keys.ToList();
        var original = model.First;
        var swap = FakeQuantLinear.Prepare(model);
        Assert.Same(model, swap.Root);
        Assert.IsType<FakeQuantLinear>(model.First);
        Assert.IsType<FakeQuantLinear>(model.named_children().First(c => c.name == "fc1").module);
        Assert.Equal(keys, model.state_dict().Keys.Where(k => !k.EndsWith("input_scale") && !k.EndsWith("input_range")).ToList());
        swap.Restore();
        Assert.Same(original, model.First);
        Assert.Same(original, model.named_children().First(c => c.name == "fc1").module);
    }

    [Fact]
    public void SealedLinearFieldGivesAClearError()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<DistillSharpException>(() => FakeQuantLinear.Prepare(new SealedFieldModel()));
        Assert.Contains("SealedFieldModel.proj", e.Message);
        Assert.Contains("Module<Tensor, Tensor>", e.Message);
    }
}
