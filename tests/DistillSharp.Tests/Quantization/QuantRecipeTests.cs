using DistillSharp.Tests.Export;
using DistillSharp.Export.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Quantization;
using Xunit.Abstractions;
using static DistillSharp.Tests.Export.ExportTestKit;

namespace DistillSharp.Tests.Quantization;

/// <summary>
/// A named recipe means one arithmetic: the fake-quant simulation, the C# INT8 runtime and the ONNX
/// graph under ONNX Runtime compute the same model for every recipe; options a recipe would ignore
/// are config errors.
/// </summary>
public sealed class QuantRecipeTests(ITestOutputHelper log) : IDisposable
{
    readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Calibration =
    [
        "the dog sat on the red mat", "a bird was in the big tree", "fish eat and sleep", "the small cat ran fast",
        "it is a blue house", "the dogs and cats sleep", "a slow fish , a fast bird", "red or blue ?",
    ];

    public static TheoryData<string> RecipeNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in QuantRecipes.Names) data.Add(name);
        return data;
    }

    [Fact]
    public void NamesAreUniqueAndEveryCombinationHasOne()
    {
        Assert.Equal(QuantRecipes.All.Count, QuantRecipes.Names.Distinct().Count());
        Assert.Equal(12, QuantRecipes.All.Count);      // {int8, w4a8} × 5 activation rules + 2 weight-only
        foreach (var r in QuantRecipes.All)
            Assert.Same(r, QuantRecipes.Of(r.WeightBits, r.ActivationBits, r.Mode, r.ActivationSymmetric));
        Assert.Equal("int8-dynamic", QuantRecipes.Default);
        var e = Assert.Throws<DistillSharpException>(() => QuantRecipes.Get("int8-fast", "quantize.recipe"));
        Assert.StartsWith("quantize.recipe is 'int8-fast'; recipes: int8-dynamic, int8-static", e.Message);
    }

    // Simulation vs runtime vs ONNX Runtime, one sentence per call: a per-tensor recipe's range is
    // then the same tensor in all three (in a padded batch the simulation and ORT also see padding rows).
    [Theory]
    [MemberData(nameof(RecipeNames))]
    public void SimulationRuntimeAndOnnxComputeTheSameModel(string name)
    {
        var recipe = QuantRecipes.Get(name);
        using var encoder = TinyModels.Encoder(seed: 21);
        var quantized = Quantize(encoder, PtqOptions.For(recipe, observer: "minmax"), Calibration);
        Assert.Equal(name, quantized.Recipe.Name);
        using var simulated = EncoderQuantizer.Simulated(encoder, quantized);
        using var runtime = EncoderToRuntime.Build(encoder, quantized, new Int8EncoderOptions(Threads: 1, Int8WordEmbeddings: false));
        byte[]? onnx = null;
        if (recipe.ExportsToOnnx)
        {
            string path = Path.Combine(_dir, name + ".onnx");
            var result = OnnxExporter.ExportInt8(encoder, quantized, path, new OnnxExportOptions(QuantizeWordEmbeddings: false));
            Assert.Equal(name, result.Recipe);
            Assert.StartsWith(name + ": ", result.Scheme);
            onnx = File.ReadAllBytes(path);
        }
        else
        {
            var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.BuildInt8(encoder.Model, quantized));
            Assert.Contains(recipe.WeightBits == 4 ? "takes 8-bit weights" : $"recipe {name} has no ONNX form", e.Message);
        }

        double worstRuntime = 0, worstOnnx = 0;
        foreach (string text in Calibration.Take(4))
        {
            var batch = encoder.Tokenizer.EncodeBatch([text]);
            var (refHidden, _) = RunTorch(simulated, batch);
            var (hidden, _) = runtime.Forward(batch).ToArrays();
            worstRuntime = Math.Max(worstRuntime, RelativeError(hidden, refHidden, batch, 32));
            if (onnx is not null) worstOnnx = Math.Max(worstOnnx, RelativeError(RunOrt(onnx, batch).Hidden, refHidden, batch, 32));
        }
        log.WriteLine($"{name}: runtime vs simulation {worstRuntime:E2}, ONNX Runtime vs simulation {(onnx is null ? "-" : worstOnnx.ToString("E2"))}");
        // Bounds as in Int8EncoderTests / OnnxInt8ExportTests: float rounding can move a value across one
        // quantization boundary; the quantization error itself (simulation vs fp32) is 1e-3 – 3e-2 here.
        Assert.True(worstRuntime < 1e-4, $"{name}: runtime vs simulation {worstRuntime:E2}");
        if (OrtInt8Host.Exact) Assert.True(worstOnnx < 2e-3, $"{name}: ONNX Runtime vs simulation {worstOnnx:E2}");
    }

    [Theory]
    [InlineData("int8-static", "int8-dynamic")]
    [InlineData("int8-static-asymmetric", "int8-dynamic-asymmetric")]
    public void TheRuntimeUsesTheCalibratedScalesOfAStaticRecipe(string staticName, string dynamicName)
    {
        // The same int8 weights run once with the calibrated per-tensor input scales and once with
        // per-token run-time scales: if the runtime ignored the static scales, both would be equal.
        using var encoder = TinyModels.Encoder(seed: 22);
        var quantized = Quantize(encoder, PtqOptions.For(QuantRecipes.Get(staticName), observer: "minmax"), Calibration);
        var asDynamic = quantized with { Mode = QuantRecipes.Get(dynamicName).Mode };
        using var simulated = EncoderQuantizer.Simulated(encoder, quantized);
        var options = new Int8EncoderOptions(Threads: 1, Int8WordEmbeddings: false);
        using var staticRuntime = EncoderToRuntime.Build(encoder, quantized, options);
        using var dynamicRuntime = EncoderToRuntime.Build(encoder, asDynamic, options);
        var batch = encoder.Tokenizer.EncodeBatch(Calibration);
        var (refHidden, _) = RunTorch(simulated, batch);
        double toReference = RelativeError(staticRuntime.Forward(batch).ToArrays().LastHiddenState, refHidden, batch, 32);
        double toDynamic = RelativeError(dynamicRuntime.Forward(batch).ToArrays().LastHiddenState, refHidden, batch, 32);
        log.WriteLine($"{staticName}: runtime vs its simulation {toReference:E2}; per-token run of the same weights vs it {toDynamic:E2}");
        Assert.True(toReference < 1e-4, $"static runtime vs simulation {toReference:E2}");
        Assert.True(toDynamic > 10 * Math.Max(toReference, 1e-6), $"per-token scales give {toDynamic:E2}, no different from the static run");
    }

    [Fact]
    public void TheModelFileRecordsItsRecipe()
    {
        using var encoder = TinyModels.Encoder(seed: 23);
        var quantized = Quantize(encoder, PtqOptions.For(QuantRecipes.Get("int8-dynamic-per-tensor")), Calibration);
        string path = Path.Combine(_dir, "q.safetensors");
        QuantizedModelFile.Save(quantized, path);
        var (_, meta) = DistillSharp.Runtime.Formats.Safetensors.Read(path);
        Assert.Equal("int8-dynamic-per-tensor", meta["recipe"]);
        Assert.Equal("dynamic-per-tensor", meta["activation_mode"]);
        Assert.Equal("int8-dynamic-per-tensor", QuantizedModelFile.Load(path).Recipe.Name);
    }

    [Theory]
    [InlineData("{ recipe: int8-dynamic, observer: percentile }", "quantize.observer has no effect with recipe int8-dynamic")]
    [InlineData("{ recipe: int8-dynamic, percentile: 99.99 }", "quantize.percentile has no effect with recipe int8-dynamic")]
    [InlineData("{ mode: dynamic, observer: minmax }", "quantize.observer has no effect with recipe int8-dynamic")]
    [InlineData("{ mode: dynamic, calib_batches: 8 }", "quantize.calib_batches has no effect")]
    [InlineData("{ activation_bits: 0, scheme: asymmetric }", "quantize.scheme has no effect with recipe int8-weight-only")]
    [InlineData("{ recipe: int8-static, observer: mse, percentile: 99.9 }", "quantize.percentile has no effect with recipe int8-static (it is the percentile observer's setting")]
    [InlineData("{ recipe: int8-static, mode: dynamic }", "quantize.mode is 'dynamic' but quantize.recipe int8-static has static")]
    [InlineData("{ recipe: int8-dynamic, weight_bits: 4 }", "quantize.weight_bits is '4' but quantize.recipe int8-dynamic has 8")]
    [InlineData("{ recipe: int8-turbo }", "quantize.recipe is 'int8-turbo'; recipes: int8-dynamic")]
    public void OptionsThatWouldHaveNoEffectAreErrors(string yaml, string message)
    {
        var e = Assert.Throws<DistillSharpException>(() => QuantizeConfig.FromYaml(yaml));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("{ recipe: int8-static, observer: percentile, percentile: 99.9 }", "int8-static", 8, 8, "static")]
    [InlineData("{ recipe: int8-dynamic-per-tensor }", "int8-dynamic-per-tensor", 8, 8, "dynamic-per-tensor")]
    [InlineData("{ recipe: int4-weight-only }", "int4-weight-only", 4, 0, "static")]
    [InlineData("{ weight_bits: 8, activation_bits: 8, scheme: symmetric, mode: dynamic }", "int8-dynamic", 8, 8, "dynamic")]
    [InlineData("{ recipe: int8-dynamic, mode: dynamic, scheme: symmetric }", "int8-dynamic", 8, 8, "dynamic")]
    public void RecipesAndTheirLowerLevelKeysAgree(string yaml, string recipe, int weightBits, int activationBits, string mode)
    {
        var c = QuantizeConfig.FromYaml(yaml);
        Assert.Equal((recipe, weightBits, activationBits, mode), (c.Recipe.Name, c.WeightBits, c.ActivationBits, c.Mode));
        Assert.Equal(recipe, c.ToPtqOptions().Recipe.Name);
    }

    [Fact]
    public void ADynamicModelExportsItsPerTensorTwinOnlyWhenAskedAndSaysSo()
    {
        using var encoder = TinyModels.Encoder(seed: 24);
        var quantized = Quantize(encoder, PtqOptions.For(QuantRecipes.Get("int8-dynamic")), Calibration);
        var own = OnnxExporter.ExportInt8(encoder, quantized, Path.Combine(_dir, "own.onnx"));
        var twin = OnnxExporter.ExportInt8(encoder, quantized, Path.Combine(_dir, "twin.onnx"),
            new OnnxExportOptions(DynamicActivations: OnnxDynamicActivations.OrtPerTensor));
        Assert.Equal("int8-dynamic", own.Recipe);
        Assert.Equal("int8-dynamic-per-tensor", twin.Recipe);
        Assert.EndsWith("(exported from a int8-dynamic model)", twin.Scheme);
        var staticModel = Quantize(encoder, PtqOptions.For(QuantRecipes.Get("int8-static"), observer: "minmax"), Calibration);
        var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.BuildInt8(encoder.Model, staticModel,
            new OnnxExportOptions(DynamicActivations: OnnxDynamicActivations.OrtPerTensor)));
        Assert.Contains("apply to dynamic recipes; the model's recipe is int8-static", e.Message);
    }
}
