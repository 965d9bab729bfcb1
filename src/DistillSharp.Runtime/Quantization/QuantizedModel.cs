using DistillSharp.Runtime.Formats;

namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// One quantized Linear layer, as the INT8 runtime consumes it: y = dq(x) · dq(W)ᵀ + b.
/// </summary>
/// <param name="Name">Dotted module path, e.g. "encoder.layer.0.attention.self.query".</param>
/// <param name="OutFeatures">Rows of the weight.</param>
/// <param name="InFeatures">Columns of the weight.</param>
/// <param name="Weight">Quantized weight, row-major [out, in]; values in [-127, 127] (8-bit) or [-7, 7] (4-bit).</param>
/// <param name="WeightScale">One float scale per output row; weight zero points are 0 (symmetric).</param>
/// <param name="Bias">Float bias [out], or null.</param>
/// <param name="InputScale">Static activation scale (per tensor), or null for dynamic/weight-only.</param>
/// <param name="InputZeroPoint">Static activation zero point (0 when symmetric), or null.</param>
public sealed record QuantizedLinearWeights(
    string Name, int OutFeatures, int InFeatures, sbyte[] Weight, float[] WeightScale, float[]? Bias,
    float? InputScale, int? InputZeroPoint)
{
    /// <summary>Throws <see cref="DistillSharpException"/> when the arrays disagree with the shape.</summary>
    public QuantizedLinearWeights Validate(int weightBits)
    {
        if (Weight.Length != (long)OutFeatures * InFeatures)
            throw new DistillSharpException($"{Name}.weight has {Weight.Length} values, expected [{OutFeatures}, {InFeatures}] = {(long)OutFeatures * InFeatures}");
        if (WeightScale.Length != OutFeatures)
            throw new DistillSharpException($"{Name}.weight_scale has shape [{WeightScale.Length}], expected [{OutFeatures}] (one per output row)");
        if (Bias is not null && Bias.Length != OutFeatures)
            throw new DistillSharpException($"{Name}.bias has shape [{Bias.Length}], expected [{OutFeatures}]");
        if (InputScale.HasValue != InputZeroPoint.HasValue)
            throw new DistillSharpException($"{Name}: input_scale and input_zero_point must both be present or both absent");
        FiniteValues.RequirePositive(WeightScale, $"{Name}.weight_scale");
        if (Bias is not null) FiniteValues.Require(Bias, $"{Name}.bias");
        if (InputScale is { } s) FiniteValues.RequirePositive([s], $"{Name}.input_scale");
        var qmax = (1 << (weightBits - 1)) - 1;
        foreach (var q in Weight)
            if (q < -qmax || q > qmax)
                throw new DistillSharpException($"{Name}.weight holds {q}, outside the symmetric {weightBits}-bit range [{-qmax}, {qmax}]");
        return this;
    }

    /// <summary>Weight parameters (per output channel, axis 0).</summary>
    public QuantParams WeightParams(int weightBits) =>
        new(WeightScale, new int[OutFeatures], 0, weightBits, true, true);
}

/// <summary>How activations are quantized at run time.</summary>
public enum ActivationMode
{
    /// <summary>One scale/zero point per layer input, fixed by calibration.</summary>
    Static,

    /// <summary>Scale/zero point computed per token (row of the input) at run time.</summary>
    Dynamic,

    /// <summary>
    /// One asymmetric uint8 scale/zero point computed at run time from the whole input tensor of a
    /// call (ONNX <c>DynamicQuantizeLinear</c>, what ONNX Runtime's DynamicQuantizeMatMul fuses).
    /// </summary>
    DynamicPerTensor,
}

/// <summary>
/// The output of post-training quantization (or of a QAT model's export): every quantized Linear
/// by name, plus how it was made. Saved and loaded by <see cref="QuantizedModelFile"/>.
/// </summary>
public sealed record QuantizedModel(
    IReadOnlyDictionary<string, QuantizedLinearWeights> Layers,
    int WeightBits,
    int ActivationBits,
    bool ActivationSymmetric,
    ActivationMode Mode,
    string Observer)
{
    /// <summary>The activation spec (per tensor for static, per token for dynamic).</summary>
    public QuantSpec ActivationSpec => new(ActivationBits, ActivationSymmetric);

    /// <summary>The named recipe this model was made with (see <see cref="QuantRecipes"/>).</summary>
    public QuantRecipe Recipe => QuantRecipes.Of(WeightBits, ActivationBits, Mode, ActivationSymmetric);
}
