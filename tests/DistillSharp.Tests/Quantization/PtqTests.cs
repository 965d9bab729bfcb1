using DistillSharp.Quantization;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Quantization;

/// <summary>Quantizes the fixed-seed 16→32→8 MLP and measures output SQNR against fp32 on held-out batches.</summary>
public class PtqTests
{
    internal static (QuantizedModel Model, double SqnrDb) QuantizeAndMeasure(PtqOptions options)
    {
        using var scope = NewDisposeScope();
        var model = TinyMlp.Sequential();
        var quantized = new PostTrainingQuantizer(options).Quantize(model, TinyMlp.Batches(4));
        var test = TinyMlp.Batches(2, seed: 77);
        var swap = QuantizedLinearSimulation.Apply(model, quantized);
        var sim = (nn.Module<Tensor, Tensor>)swap.Root;
        using var noGrad = no_grad();
        var (sqnr, _) = SensitivityAnalyzer.Compare(cat(test.Select(model.call).ToList()), cat(test.Select(sim.call).ToList()));
        return (quantized, sqnr);
    }

    [Theory]
    [InlineData("minmax", true, ActivationMode.Static, 30)]
    [InlineData("percentile", true, ActivationMode.Static, 30)]
    [InlineData("mse", false, ActivationMode.Static, 30)]
    // Entropy: 256 calibration rows × 16/32 features fill a 2048-bin histogram sparsely, and KL then clips hard
    // (measured 17.6 dB); it is meant for large calibration sets. Floor set below the measured value.
    [InlineData("entropy", true, ActivationMode.Static, 15)]
    [InlineData("minmax", true, ActivationMode.Dynamic, 30)]
    public void Int8OutputSqnrIsAboveFloor(string observer, bool symmetric, ActivationMode mode, double floorDb)
    {
        var (model, sqnr) = QuantizeAndMeasure(new PtqOptions(ActivationSymmetric: symmetric, Observer: observer, Mode: mode));
        Assert.True(sqnr > floorDb, $"{observer} {mode}: {sqnr:F1} dB");
        Assert.Equal(2, model.Layers.Count);
        var fc1 = model.Layers["fc1"];
        Assert.Equal((TinyMlp.Hidden, TinyMlp.In), (fc1.OutFeatures, fc1.InFeatures));
        Assert.Equal(mode == ActivationMode.Static, fc1.InputScale.HasValue);
        Assert.Equal(127, fc1.Weight.Max(v => Math.Abs((int)v)));            // every row reaches ±127 at its absmax
    }

    [Fact]
    public void FourBitWeightOnlyIsWorseButAboveFloor()
    {
        var (_, sqnr8) = QuantizeAndMeasure(new PtqOptions(ActivationBits: 0));
        var (model, sqnr4) = QuantizeAndMeasure(new PtqOptions(WeightBits: 4, ActivationBits: 0));
        Assert.True(sqnr4 > 12 && sqnr4 < sqnr8, $"4-bit {sqnr4:F1} dB, 8-bit {sqnr8:F1} dB");
        Assert.All(model.Layers["fc2"].Weight, v => Assert.InRange(v, -7, 7));
    }

    [Fact]
    public void Fp32LayersAreSkippedAndTheModelIsLeftAsItWas()
    {
        using var scope = NewDisposeScope();
        var model = TinyMlp.Sequential();
        var x = TinyMlp.Batches(1)[0];
        var before = model.call(x);
        var q = new PostTrainingQuantizer(new PtqOptions(Fp32Layers: new HashSet<string> { "fc2" })).Quantize(model, TinyMlp.Batches(2));
        Assert.Equal(new[] { "fc1" }, q.Layers.Keys);
        Assert.True(before.eq(model.call(x)).all().item<bool>());
    }

    [Fact]
    public void QatExportCarriesObserverRanges()
    {
        using var scope = NewDisposeScope();
        var swap = FakeQuantLinear.Prepare(TinyMlp.Sequential());
        ((nn.Module<Tensor, Tensor>)swap.Root).call(TinyMlp.Batches(1)[0]);
        var q = PostTrainingQuantizer.ExportQat(swap.Root);
        Assert.Equal(new[] { "fc1", "fc2" }, q.Layers.Keys.Order());
        Assert.All(q.Layers.Values, l => Assert.True(l.InputScale > 0));
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        var e = Assert.Throws<DistillSharpException>(() => new PostTrainingQuantizer(new PtqOptions(Observer: "kl")));
        Assert.Contains("percentile", e.Message);
    }
}
