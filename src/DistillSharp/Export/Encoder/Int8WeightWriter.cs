using DistillSharp.Runtime.Quantization;
using static DistillSharp.Export.OnnxGraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DistillSharp.Export.Encoder;

/// <summary>
/// INT8 weights for ONNX Runtime. Every quantized Linear stores its weight transposed to [in, out]
/// as int8 ("&lt;layer&gt;.weight_t_quantized") with one float scale per output column
/// ("&lt;layer&gt;.weight_scale", zero point 0). Activations follow the recipe the graph computes
/// (<see cref="Recipe"/>: the model's own, or its per-tensor twin on request):
/// <list type="bullet">
/// <item>static: QDQ — QuantizeLinear/DequantizeLinear(x, s, zp) as <b>uint8</b> (a symmetric int8
/// scale s becomes zero point 128, the same grid), DequantizeLinear(W, per-column scales, axis 1),
/// MatMul, Add bias. ORT's x86 QDQ fusion only accepts uint8 activations (signed int8 activations are
/// left unfused on x86), and turns this group into MatMulIntegerToFloat (u8×s8).</item>
/// <item>*-dynamic-per-tensor: DynamicQuantizeLinear →
/// MatMulInteger → Cast → Mul(x_scale·w_scale) → Add bias: the pattern ORT fuses into DynamicQuantizeMatMul.</item>
/// <item>int8-dynamic (per token): s_row = max(max|x_row|/127, ε),
/// q = Clip(Round(x/s_row), ±127) + 128 as uint8 → MatMulInteger(zero point 128) → Cast → ·s_row·w_scale → Add bias.</item>
/// <item>weight-only (activation_bits 0): DequantizeLinear(W) → MatMul → Add bias.</item>
/// </list>
/// Layers the quantized model does not hold (kept in fp32 by precision fallback) are written as fp32.
/// </summary>
internal sealed class Int8WeightWriter(WeightTable weights, QuantizedModel quantized, OnnxExportOptions options, string source) : IOnnxWeightWriter
{
    readonly Fp32WeightWriter _fp32 = new(weights);

    public List<string> Int8Layers { get; } = [];
    public List<string> Fp32Layers { get; } = [];

    /// <summary>The recipe the graph computes (the model's, or its per-tensor twin); refuses what ONNX cannot express.</summary>
    public QuantRecipe Recipe { get; } = ExportedRecipe(quantized, options, source);

    /// <summary>One line naming the recipe and its graph form, for reports and docs.</summary>
    public string Scheme => $"{Recipe.Name}: {Recipe.Meaning}" + (Recipe != quantized.Recipe ? $" (exported from a {quantized.Recipe.Name} model)" : "");

    static QuantRecipe ExportedRecipe(QuantizedModel quantized, OnnxExportOptions options, string source)
    {
        var own = quantized.Recipe;
        var asked = options.DynamicActivations;
        if (!own.QuantizesActivations || own.Mode == ActivationMode.Static)
        {
            if (asked != OnnxDynamicActivations.Model)
                throw new DistillSharpException($"{source}: ONNX dynamic activations {asked} apply to dynamic recipes; the model's recipe is {own.Name}");
            return own;
        }
        if (asked == OnnxDynamicActivations.OrtPerTensor || own.Mode == ActivationMode.DynamicPerTensor)
        {
            if (asked == OnnxDynamicActivations.PerToken)
                throw new DistillSharpException($"{source}: the model's recipe {own.Name} is per tensor; a per-token graph would compute another model");
            return QuantRecipes.Of(own.WeightBits, own.ActivationBits, ActivationMode.DynamicPerTensor, false);
        }
        if (!own.ExportsToOnnx)
            throw new DistillSharpException($"{source}: recipe {own.Name} has no ONNX form (MatMulInteger takes one activation zero point per tensor); " +
                $"quantize with {QuantRecipes.Of(own.WeightBits, 8, ActivationMode.Dynamic, true).Name} or export with per-tensor activations");
        return own;
    }

    /// <inheritdoc/>
    public string Linear(OnnxGraphBuilder g, string layer, string x)
    {
        if (!quantized.Layers.TryGetValue(layer, out var q))
        {
            Fp32Layers.Add(layer);
            return _fp32.Linear(g, layer, x);
        }
        Int8Layers.Add(layer);
        long[] shape = weights.Shape(layer + ".weight");
        if (q.OutFeatures != shape[0] || q.InFeatures != shape[1])
            throw new DistillSharpException($"{source}: quantized layer '{layer}' is [{q.OutFeatures}, {q.InFeatures}] but the model's weight is [{string.Join(", ", shape)}]; was it quantized from a different model?");
        string hint = layer.Replace('.', '/');
        string w = g.Int8s(layer + ".weight_t_quantized", WeightTable.Transpose(q.Weight, q.OutFeatures, q.InFeatures), q.InFeatures, q.OutFeatures);
        string wScale = g.Floats(layer + ".weight_scale", q.WeightScale, q.OutFeatures);

        string product;
        if (quantized.ActivationBits == 0)
            product = g.Node("MatMul", [x, DequantizeWeight(g, w, wScale, hint)], hint + "/matmul");
        else if (quantized.Mode == ActivationMode.Static)
            product = StaticQdq(g, layer, q, x, w, wScale, hint);
        else if (Recipe.Mode == ActivationMode.DynamicPerTensor)
            product = DynamicPerTensor(g, x, w, wScale, hint);
        else
            product = DynamicPerToken(g, x, w, wScale, hint);

        if (q.Bias is null) return product;
        string bias = g.Floats(layer + ".bias", q.Bias, q.OutFeatures);
        return g.Node("Add", [product, bias], hint + "/out");
    }

    /// <inheritdoc/>
    public string WordEmbedding(OnnxGraphBuilder g, string inputIds)
    {
        if (!options.QuantizeWordEmbeddings) return _fp32.WordEmbedding(g, inputIds);
        const string name = "embeddings.word_embeddings.weight";
        long[] shape = weights.Shape(name);
        var (values, scales) = EmbeddingQuantizer.Quantize(weights.Data(name), (int)shape[0], (int)shape[1]);
        string table = g.Int8s(name + "_quantized", values, shape);
        string scaleTable = g.Floats(name + "_scale", scales, shape[0]);
        // Gather the int8 rows and their scales, then dequantize only those rows: (B, T, H) · (B, T, 1).
        string rows = g.Node("Gather", [table, inputIds], "embeddings/word_q");
        string rowScales = g.Node("Unsqueeze", [g.Node("Gather", [scaleTable, inputIds], "embeddings/word_scale"), g.Longs(-1)], "embeddings/word_scale_bt1");
        string rowsF = g.Node("Cast", [rows], "embeddings/word_q_float", Attr("to", (long)DataType.Float));
        return g.Node("Mul", [rowsF, rowScales], "embeddings/word");
    }

    static string DequantizeWeight(OnnxGraphBuilder g, string w, string wScale, string hint) =>
        g.Node("DequantizeLinear", [w, wScale], hint + "/weight_dq", Attr("axis", 1L));

    string StaticQdq(OnnxGraphBuilder g, string layer, QuantizedLinearWeights q, string x, string w, string wScale, string hint)
    {
        if (q.InputScale is not float s)
            throw new DistillSharpException($"{source}: static quantized layer '{layer}' has no input_scale; calibrate it or quantize with mode dynamic");
        // Symmetric int8 q ∈ [-127, 127] with zero point 0 is the uint8 grid q + 128 with zero point 128.
        int zp = quantized.ActivationSymmetric ? 128 : q.InputZeroPoint ?? 0;
        if (zp is < 0 or > 255)
            throw new DistillSharpException($"{source}: layer '{layer}' has activation zero point {zp}; uint8 activations need 0–255");
        string scale = g.Floats(layer + ".input_scale", [s]);
        string zeroPoint = g.UInt8s(layer + ".input_zero_point", [(byte)zp]);
        string xq = g.Node("QuantizeLinear", [x, scale, zeroPoint], hint + "/input_q");
        string xdq = g.Node("DequantizeLinear", [xq, scale, zeroPoint], hint + "/input_dq");
        return g.Node("MatMul", [xdq, DequantizeWeight(g, w, wScale, hint)], hint + "/matmul");
    }

    static string DynamicPerTensor(OnnxGraphBuilder g, string x, string w, string wScale, string hint)
    {
        var dq = g.Node("DynamicQuantizeLinear", [x], 3, hint + "/input_dynq");             // q uint8, scale, zero point
        string acc = g.Node("MatMulInteger", [dq[0], w, dq[2]], hint + "/matmul_int32");
        string accF = g.Node("Cast", [acc], hint + "/matmul_float", Attr("to", (long)DataType.Float));
        string scale = g.Node("Mul", [dq[1], wScale], hint + "/output_scale");              // (out)
        return g.Node("Mul", [accF, scale], hint + "/matmul");
    }

    string DynamicPerToken(OnnxGraphBuilder g, string x, string w, string wScale, string hint)
    {
        string absX = g.Node("Abs", [x], hint + "/input_abs");
        string amax = options.Opset >= 18
            ? g.Node("ReduceMax", [absX, g.Longs(-1)], hint + "/input_amax", Attr("keepdims", 1L))
            : g.Node("ReduceMax", [absX], hint + "/input_amax", Attr("axes", new long[] { -1 }), Attr("keepdims", 1L)); // (…, 1)
        string s = g.Node("Max", [g.Node("Div", [amax, g.Scalar(127f)], hint + "/input_scale_raw"), g.Scalar(QuantReference.MinScale)], hint + "/input_scale");
        string rounded = g.Node("Round", [g.Node("Div", [x, s], hint + "/input_div")], hint + "/input_round");  // half to even
        string clipped = g.Node("Clip", [rounded, g.Scalar(-127f), g.Scalar(127f)], hint + "/input_clip");
        string xq = g.Node("Cast", [g.Node("Add", [clipped, g.Scalar(128f)], hint + "/input_shift")], hint + "/input_q",
            Attr("to", (long)DataType.Uint8));
        string zp = g.UInt8s(hint + "/input_zero_point_128", [(byte)128]);
        string acc = g.Node("MatMulInteger", [xq, w, zp], hint + "/matmul_int32");
        string accF = g.Node("Cast", [acc], hint + "/matmul_float", Attr("to", (long)DataType.Float));
        return g.Node("Mul", [g.Node("Mul", [accF, s], hint + "/matmul_row_scaled"), wScale], hint + "/matmul");
    }
}
