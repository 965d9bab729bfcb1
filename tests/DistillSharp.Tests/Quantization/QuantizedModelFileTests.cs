using DistillSharp.Runtime.Formats;
using DistillSharp.Quantization;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Quantization;

public sealed class QuantizedModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ds-quant-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(8, 8, ActivationMode.Static)]
    [InlineData(8, 8, ActivationMode.Dynamic)]
    [InlineData(4, 0, ActivationMode.Static)]
    public void RoundTripIsExact(int weightBits, int activationBits, ActivationMode mode)
    {
        var (model, _) = PtqTests.QuantizeAndMeasure(new PtqOptions(weightBits, activationBits, Mode: mode, ActivationSymmetric: false));
        var path = Path.Combine(_dir, "q.safetensors");
        QuantizedModelFile.Save(model, path);
        var loaded = QuantizedModelFile.Load(path);
        Assert.Equal((model.WeightBits, model.ActivationBits, model.ActivationSymmetric, model.Mode, model.Observer),
            (loaded.WeightBits, loaded.ActivationBits, loaded.ActivationSymmetric, loaded.Mode, loaded.Observer));
        foreach (var (name, a) in model.Layers)
        {
            var b = loaded.Layers[name];
            Assert.Equal((a.OutFeatures, a.InFeatures, a.InputScale, a.InputZeroPoint), (b.OutFeatures, b.InFeatures, b.InputScale, b.InputZeroPoint));
            Assert.Equal(a.Weight, b.Weight);
            Assert.Equal(a.WeightScale, b.WeightScale);
            Assert.Equal(a.Bias, b.Bias);
        }
    }

    [Fact]
    public void TorchSharpReadsTheSameTensors()
    {
        // Interop check: TorchSharp.PyBridge's safetensors reader sees our int8 weight and f32 scales unchanged.
        var (model, _) = PtqTests.QuantizeAndMeasure(new PtqOptions());
        var path = Path.Combine(_dir, "q.safetensors");
        QuantizedModelFile.Save(model, path);
        using var scope = NewDisposeScope();
        var dict = TorchSharp.PyBridge.Safetensors.LoadStateDict(path);
        Assert.Equal(ScalarType.Int8, dict["fc1.weight"].dtype);
        Assert.Equal(new long[] { TinyMlp.Hidden, TinyMlp.In }, dict["fc1.weight"].shape);
        Assert.Equal(model.Layers["fc1"].Weight.Select(v => (int)v), TensorQuant.ToIntArray(dict["fc1.weight"]));
        Assert.Equal(model.Layers["fc2"].WeightScale, TensorQuant.ToFloatArray(dict["fc2.weight_scale"]));
    }

    [Fact]
    public void MismatchedScaleNamesTheTensorAndShapes()
    {
        var path = Path.Combine(_dir, "bad.safetensors");
        Safetensors.Write(path, [
            KeyValuePair.Create("fc1.weight", new SafeTensor("I8", [4, 2], new byte[8])),
            KeyValuePair.Create("fc1.weight_scale", new SafeTensor("F32", [3], new byte[12])),
        ], Metadata());
        var e = Assert.Throws<DistillSharpException>(() => QuantizedModelFile.Load(path));
        Assert.Contains("'fc1.weight'", e.Message);
        Assert.Contains("[4, 2]", e.Message);
        Assert.Contains("[3]", e.Message);
    }

    [Fact]
    public void TruncatedFileIsReported()
    {
        var (model, _) = PtqTests.QuantizeAndMeasure(new PtqOptions());
        var path = Path.Combine(_dir, "t.safetensors");
        QuantizedModelFile.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<DistillSharpException>(() => QuantizedModelFile.Load(path));
        Assert.Contains("data_offsets", e.Message);
    }

    [Fact]
    public void WrongDtypeAndStrayTensorsAreReported()
    {
        var path = Path.Combine(_dir, "dtype.safetensors");
        Safetensors.Write(path, [
            KeyValuePair.Create("fc1.weight", new SafeTensor("F32", [1, 1], new byte[4])),
            KeyValuePair.Create("fc1.weight_scale", new SafeTensor("F32", [1], new byte[4])),
        ], Metadata());
        Assert.Contains("expected dtype I8", Assert.Throws<DistillSharpException>(() => QuantizedModelFile.Load(path)).Message);
        Safetensors.Write(path, [KeyValuePair.Create("stray", new SafeTensor("F32", [1], new byte[4]))], Metadata());
        Assert.Contains("stray", Assert.Throws<DistillSharpException>(() => QuantizedModelFile.Load(path)).Message);
    }

    private static Dictionary<string, string> Metadata() => new()
    {
        ["format"] = QuantizedModelFile.Format, ["format_version"] = "1", ["weight_bits"] = "8", ["activation_bits"] = "8",
        ["activation_scheme"] = "symmetric", ["activation_mode"] = "dynamic", ["observer"] = "none",
    };
}
