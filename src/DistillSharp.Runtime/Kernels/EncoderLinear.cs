using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// One Linear layer of <c>Int8Encoder</c>, y = x·Wᵀ + b: int8 (packed weights, per-channel
/// scales, activations quantized per token at run time) or fp32 (the fallback for layers the
/// <see cref="QuantizedModel"/> does not hold, and for weight-only models).
/// </summary>
internal sealed class EncoderLinear
{
    EncoderLinear(string name, int inFeatures, int outFeatures, PackedInt8Weights? int8, PackedFp32Weights? fp32, float[] bias,
        StaticActivation? staticInput = null)
    {
        StaticInput = staticInput;
        Name = name;
        In = inFeatures;
        Out = outFeatures;
        Int8 = int8;
        Fp32 = fp32;
        Bias = bias;
    }

    public string Name { get; }
    public int In { get; }
    public int Out { get; }
    public PackedInt8Weights? Int8 { get; }
    public PackedFp32Weights? Fp32 { get; }
    public float[] Bias { get; }
    public bool IsInt8 => Int8 is not null;
    /// <summary>The calibrated input parameters of a static recipe; null when activations are quantized at run time.</summary>
    public StaticActivation? StaticInput { get; }

    /// <summary>Packs one layer.</summary>
    public static EncoderLinear Create(LinearSource s) => s.Int8Weight is not null
        ? new(s.Name, s.In, s.Out, new PackedInt8Weights(s.Int8Weight, s.Scales!, s.Out, s.In), null, s.Bias, s.StaticInput)
        : new(s.Name, s.In, s.Out, null, new PackedFp32Weights(s.FloatWeight!, s.Out, s.In), s.Bias);

    /// <summary>
    /// Layers with one input stacked into one layer (outputs concatenated): Q, K and V become one GEMM
    /// with one activation quantization (per-token quantization of their shared input is the same for
    /// each). Null when the precisions or the static input parameters differ.
    /// </summary>
    public static EncoderLinear? Stack(string name, IReadOnlyList<LinearSource> parts)
    {
        var first = parts[0];
        bool int8 = first.Int8Weight is not null;
        if (parts.Any(p => p.In != first.In || (p.Int8Weight is not null) != int8 || p.StaticInput != first.StaticInput)) return null;
        int n = parts.Sum(p => p.Out);
        var bias = parts.SelectMany(p => p.Bias).ToArray();
        return int8
            ? new(name, first.In, n, new PackedInt8Weights(parts.SelectMany(p => p.Int8Weight!).ToArray(),
                parts.SelectMany(p => p.Scales!).ToArray(), n, first.In), null, bias, first.StaticInput)
            : new(name, first.In, n, null, new PackedFp32Weights(parts.SelectMany(p => p.FloatWeight!).ToArray(), n, first.In), bias);
    }

    /// <summary>
    /// y[rows, Out] ← act(x[rows, In]·Wᵀ + b). Fused: bias and GELU in the GEMM epilogue. Unfused:
    /// plain GEMM, then bias and activation as separate passes (for comparison).
    /// </summary>
    public void Forward(EncoderKernels kernels, ReadOnlySpan<float> x, int rows, Span<float> y, Activation act, EncoderOp op)
    {
        var timer = kernels.Timer;
        x = x[..(rows * In)];
        y = y[..(rows * Out)];
        if (Int8 is not null)
        {
            var qa = kernels.Activations(In);
            double t0 = timer.Mark();
            kernels.Quantizer.Quantize(x, rows, qa, StaticInput);
            timer.Add(EncoderOp.Quantize, t0);
            Forward(kernels, qa, y, act, op);
            return;
        }
        bool fuse = kernels.Fuse;
        double t1 = timer.Mark();
        Fp32Gemm.Multiply(x, rows, Fp32!, fuse ? Bias : default, y, fuse && act == Activation.Gelu ? GemmActivation.Gelu : GemmActivation.None,
            kernels.Pool, kernels.Fp32Job);
        timer.Add(op, t1);
        Activate(kernels, y, rows, act);
    }

    /// <summary>As <see cref="Forward(EncoderKernels, ReadOnlySpan{float}, int, Span{float}, Activation, EncoderOp)"/> on already quantized input (int8 layers only).</summary>
    public void Forward(EncoderKernels kernels, QuantizedActivations input, Span<float> y, Activation act, EncoderOp op)
    {
        var timer = kernels.Timer;
        int rows = input.Rows;
        y = y[..(rows * Out)];
        bool fuse = kernels.Fuse;
        double t0 = timer.Mark();
        kernels.Int8.Multiply(input, Int8!, fuse ? Bias : default, y, Epilogue(fuse, act));
        timer.Add(op, t0);
        Activate(kernels, y, rows, act);
    }

    /// <summary>
    /// True when <see cref="ForwardQuantize"/> can run this layer: int8, fused, an activation the
    /// GEMM epilogue applies (none or GELU), and dynamic per-row activation quantization (the GEMM
    /// quantizes its output rows from their own ranges, so neither this layer nor the next may be static).
    /// </summary>
    public bool CanQuantizeOutput(EncoderKernels kernels, Activation act) =>
        Int8 is not null && StaticInput is null && kernels.Fuse && act is (Activation.None or Activation.Gelu) && kernels.PerRowActivations;

    /// <summary>
    /// The outputs <see cref="Forward(EncoderKernels, ReadOnlySpan{float}, int, Span{float}, Activation, EncoderOp)"/>
    /// would write, quantized per row into <paramref name="output"/> (for a next layer that is int8):
    /// the same bytes, without the fp32 matrix going through memory. Needs <see cref="CanQuantizeOutput"/>.
    /// </summary>
    public void ForwardQuantize(EncoderKernels kernels, ReadOnlySpan<float> x, int rows, QuantizedActivations output, Activation act, EncoderOp op)
    {
        if (!CanQuantizeOutput(kernels, act)) throw new InvalidOperationException($"{Name}: output quantization needs a fused int8 layer with no or GELU activation");
        var timer = kernels.Timer;
        var qa = kernels.Activations(In);
        double t0 = timer.Mark();
        kernels.Quantizer.Quantize(x[..(rows * In)], rows, qa);
        timer.Add(EncoderOp.Quantize, t0);
        t0 = timer.Mark();
        kernels.Int8.MultiplyQuantize(qa, Int8!, Bias, output, Epilogue(true, act));
        timer.Add(op, t0);
    }

    static GemmActivation Epilogue(bool fuse, Activation act) => fuse && act == Activation.Gelu ? GemmActivation.Gelu : GemmActivation.None;

    // The passes the GEMM epilogue did not do: bias + activation when unfused, activations other than GELU.
    void Activate(EncoderKernels kernels, Span<float> y, int rows, Activation act)
    {
        var timer = kernels.Timer;
        double t1 = timer.Mark();
        if (!kernels.Fuse) kernels.Rows.BiasActivation(y, rows, Bias, act);
        else if (act is not (Activation.None or Activation.Gelu)) kernels.Rows.BiasActivation(y, rows, default, act);
        timer.Add(EncoderOp.BiasActivation, t1);
    }
}

/// <summary>
/// The weights one runtime Linear is built from: int8 values with per-output-channel scales, or
/// fp32 values, in nn.Linear's <c>[out, in]</c> layout, plus the bias (zeros when the layer has none).
/// </summary>
internal sealed record LinearSource(string Name, int Out, int In, float[] Bias, sbyte[]? Int8Weight, float[]? Scales, float[]? FloatWeight,
    StaticActivation? StaticInput = null)
{
    /// <summary>
    /// A quantized layer: int8 when activations are quantized too; weight-only models
    /// (<paramref name="int8Activations"/> false) run the dequantized weights W_q · s_w in fp32.
    /// 4-bit weights are values in [−7, 7], which the int8 GEMM takes as they are. A static recipe
    /// (<paramref name="staticActivations"/>) quantizes the input with the layer's calibrated scale and zero point.
    /// </summary>
    public static LinearSource FromQuantized(QuantizedLinearWeights q, bool int8Activations, bool staticActivations = false)
    {
        var bias = q.Bias ?? new float[q.OutFeatures];
        if (int8Activations && staticActivations)
        {
            if (q.InputScale is not float s || q.InputZeroPoint is not int zp)
                throw new DistillSharpException($"{q.Name}: a static recipe needs input_scale and input_zero_point");
            if (!(s > 0) || !float.IsFinite(s)) throw new DistillSharpException($"{q.Name}.input_scale is {s}; it must be finite and > 0");
            return new(q.Name, q.OutFeatures, q.InFeatures, bias, q.Weight, q.WeightScale, null, new StaticActivation(s, zp));
        }
        if (int8Activations) return new(q.Name, q.OutFeatures, q.InFeatures, bias, q.Weight, q.WeightScale, null);
        var w = new float[q.Weight.Length];
        for (int n = 0; n < q.OutFeatures; n++)
            for (int k = 0; k < q.InFeatures; k++)
                w[n * q.InFeatures + k] = q.Weight[n * q.InFeatures + k] * q.WeightScale[n];
        return new(q.Name, q.OutFeatures, q.InFeatures, bias, null, null, w);
    }

    /// <summary>An fp32 layer.</summary>
    public static LinearSource FromFloat(string name, float[] weight, float[] bias, int outFeatures, int inFeatures)
    {
        if (weight.Length != (long)outFeatures * inFeatures)
            throw new DistillSharpException($"{name}.weight has {weight.Length} values, expected [{outFeatures}, {inFeatures}]");
        if (bias.Length != outFeatures) throw new DistillSharpException($"{name}.bias has {bias.Length} values, expected [{outFeatures}]");
        return new(name, outFeatures, inFeatures, bias, null, null, weight);
    }
}
