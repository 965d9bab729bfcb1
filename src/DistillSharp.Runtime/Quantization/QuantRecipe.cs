namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// A named way of quantizing a model's Linear layers. A recipe means the same arithmetic in the
/// fake-quant simulation (training side), in the C# INT8 runtime and in the ONNX export; a model
/// file records its recipe, and every consumer either computes exactly that or refuses the model.
/// Weights are always symmetric per output channel (scale = max|row| / qmax).
/// </summary>
/// <param name="Name">The name configs and reports use, e.g. <c>int8-dynamic</c>.</param>
/// <param name="WeightBits">8 or 4.</param>
/// <param name="ActivationBits">8, or 0 for weight-only (activations stay float).</param>
/// <param name="Mode">How activation scales are chosen (unused for weight-only).</param>
/// <param name="ActivationSymmetric">int8 [−127, 127] without zero point, or uint8 [0, 255] with one.</param>
/// <param name="Meaning">One line saying what is computed.</param>
public sealed record QuantRecipe(string Name, int WeightBits, int ActivationBits, ActivationMode Mode, bool ActivationSymmetric, string Meaning)
{
    /// <summary>True when activations are quantized.</summary>
    public bool QuantizesActivations => ActivationBits != 0;

    /// <summary>True when an observer calibrates activation ranges before quantization (static recipes).</summary>
    public bool Calibrates => QuantizesActivations && Mode == ActivationMode.Static;

    /// <summary>True when our ONNX export writes the recipe: 8-bit weights (ONNX Runtime's CPU integer
    /// MatMuls take int8 weights), and not per-token asymmetric activations (MatMulInteger takes one
    /// activation zero point per tensor).</summary>
    public bool ExportsToOnnx => WeightBits == 8 && !(QuantizesActivations && Mode == ActivationMode.Dynamic && !ActivationSymmetric);
}

/// <summary>The recipes by name: every combination the quantizer, the runtime and the exporter implement.</summary>
public static class QuantRecipes
{
    static readonly QuantRecipe[] Ordered = Build().ToArray();
    static readonly Dictionary<string, QuantRecipe> ByName = Ordered.ToDictionary(r => r.Name, StringComparer.Ordinal);

    /// <summary>The recipe the pipeline uses unless a config names another.</summary>
    public const string Default = "int8-dynamic";

    /// <summary>Every recipe, most common first.</summary>
    public static IReadOnlyList<QuantRecipe> All => Ordered;

    /// <summary>Every recipe name, in <see cref="All"/>'s order.</summary>
    public static IEnumerable<string> Names => Ordered.Select(r => r.Name);

    /// <summary>True when <paramref name="name"/> is a recipe.</summary>
    public static bool Contains(string name) => ByName.ContainsKey(name);

    /// <summary>The recipe called <paramref name="name"/>; <paramref name="what"/> prefixes the error that lists the names.</summary>
    public static QuantRecipe Get(string name, string what = "quantization recipe") =>
        ByName.TryGetValue(name, out var r) ? r : throw new DistillSharpException($"{what} is '{name}'; recipes: {string.Join(", ", Names)}");

    /// <summary>The recipe with these settings; <paramref name="source"/> prefixes the error when none has them.</summary>
    public static QuantRecipe Of(int weightBits, int activationBits, ActivationMode mode, bool activationSymmetric, string source = "quantized model")
    {
        foreach (var r in Ordered)
            if (r.WeightBits == weightBits && r.ActivationBits == activationBits
                && (activationBits == 0 || (r.Mode == mode && r.ActivationSymmetric == activationSymmetric)))
                return r;
        throw new DistillSharpException($"{source}: no recipe has weight_bits {weightBits}, activation_bits {activationBits}, " +
            $"{ModeName(mode)} {(activationSymmetric ? "symmetric" : "asymmetric")} activations; recipes: {string.Join(", ", Names)}");
    }

    /// <summary>The file/config name of a mode.</summary>
    public static string ModeName(ActivationMode mode) => mode switch
    {
        ActivationMode.Static => "static",
        ActivationMode.Dynamic => "dynamic",
        ActivationMode.DynamicPerTensor => "dynamic-per-tensor",
        _ => throw new DistillSharpException($"activation mode {(int)mode} is unknown"),
    };

    static readonly Dictionary<string, ActivationMode> ModesByName = Enum.GetValues<ActivationMode>().ToDictionary(ModeName, StringComparer.Ordinal);

    /// <summary>Every mode's name, in the enum's order.</summary>
    public static IReadOnlyList<string> ModeNames { get; } = [.. ModesByName.Keys];

    /// <summary>Parses a mode name; <paramref name="what"/> prefixes the error that lists the names.</summary>
    public static ActivationMode ParseMode(string name, string what) =>
        ModesByName.TryGetValue(name, out var mode) ? mode : throw new DistillSharpException($"{what} is '{name}'; allowed: {string.Join(", ", ModeNames)}");

    static IEnumerable<QuantRecipe> Build()
    {
        foreach (int w in new[] { 8, 4 })
        {
            string prefix = w == 8 ? "int8" : "w4a8";
            string weights = w == 8 ? "int8 weights per output channel" : "4-bit weights ([−7, 7]) per output channel";
            yield return new($"{prefix}-dynamic", w, 8, ActivationMode.Dynamic, true,
                $"{weights}; activations int8 symmetric per token, scale max|x|/127 computed at run time");
            yield return new($"{prefix}-static", w, 8, ActivationMode.Static, true,
                $"{weights}; activations int8 symmetric per tensor, scale calibrated by an observer");
            yield return new($"{prefix}-dynamic-per-tensor", w, 8, ActivationMode.DynamicPerTensor, false,
                $"{weights}; activations uint8 with zero point, one scale per input tensor at run time (ONNX DynamicQuantizeLinear)");
            yield return new($"{prefix}-static-asymmetric", w, 8, ActivationMode.Static, false,
                $"{weights}; activations uint8 with zero point per tensor, calibrated by an observer");
            yield return new($"{prefix}-dynamic-asymmetric", w, 8, ActivationMode.Dynamic, false,
                $"{weights}; activations uint8 with zero point per token at run time (no ONNX form)");
        }
        yield return new("int8-weight-only", 8, 0, ActivationMode.Dynamic, true, "int8 weights per output channel, dequantized; activations float");
        yield return new("int4-weight-only", 4, 0, ActivationMode.Dynamic, true, "4-bit weights per output channel, dequantized; activations float");
    }
}
