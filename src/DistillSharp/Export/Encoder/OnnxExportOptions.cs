using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Export.Encoder;

/// <summary>
/// How an INT8 graph quantizes the activations of a dynamically quantized model. The graph computes
/// a named <see cref="QuantRecipe"/>: by default the model's own; the per-tensor option writes the
/// model's per-tensor twin (same weights, <c>*-dynamic-per-tensor</c>), and the export result names it.
/// Static and weight-only models always export their own recipe.
/// </summary>
public enum OnnxDynamicActivations
{
    /// <summary>The model's recipe: per token for <c>int8-dynamic</c> (our runtime's arithmetic exactly),
    /// per tensor for <c>*-dynamic-per-tensor</c>.</summary>
    Model,

    /// <summary>
    /// ONNX <c>DynamicQuantizeLinear</c>: one asymmetric uint8 scale per tensor (the whole padded batch),
    /// computed at run time — recipe <c>int8-dynamic-per-tensor</c>. ONNX Runtime fuses it with the
    /// following MatMulInteger into <c>DynamicQuantizeMatMul</c>, its fastest x86 path.
    /// </summary>
    OrtPerTensor,

    /// <summary>
    /// One symmetric scale per token (row), max|x|/127, built from standard ops (ReduceMax, Div, Round,
    /// Clip) before MatMulInteger — recipe <c>int8-dynamic</c>. Less fused in ONNX Runtime (slower).
    /// </summary>
    PerToken,
}

/// <summary>Settings of an ONNX export.</summary>
/// <param name="Opset">Default-domain opset, 17–21 (LayerNormalization needs 17).</param>
/// <param name="Pooling">Sentence pooling baked into <c>sentence_embedding</c>; null = the encoder's own (Mean for a bare model).</param>
/// <param name="Normalize">L2-normalise <c>sentence_embedding</c>; null = the encoder's own (true for a bare model).</param>
/// <param name="QuantizeWordEmbeddings">INT8 export only: store the word embedding table as int8 with one scale per row.</param>
/// <param name="DynamicActivations">INT8 export of a dynamic model only: see <see cref="OnnxDynamicActivations"/>.</param>
/// <param name="DistillationOutputs">
/// Also output what distillation losses read from a teacher, named as <see cref="OnnxTeacherForward"/>
/// expects: every hidden state (embedding output, then each layer's), every layer's attention
/// probabilities, and its queries, keys and values in heads layout (B, h, T, d).
/// </param>
public sealed record OnnxExportOptions(
    int Opset = 17,
    Pooling? Pooling = null,
    bool? Normalize = null,
    bool QuantizeWordEmbeddings = true,
    OnnxDynamicActivations DynamicActivations = OnnxDynamicActivations.Model,
    bool DistillationOutputs = false)
{
    /// <summary>Lowest opset we write (LayerNormalization was added in 17).</summary>
    public const int MinOpset = 17;

    /// <summary>Highest opset we write (the ops we use are unchanged up to here).</summary>
    public const int MaxOpset = 21;

    /// <summary>Throws <see cref="DistillSharpException"/> naming the bad field.</summary>
    public OnnxExportOptions Validate()
    {
        if (Opset is < MinOpset or > MaxOpset)
            throw new DistillSharpException($"ONNX export opset {Opset} is not supported; use {MinOpset}–{MaxOpset} (LayerNormalization needs ≥ 17)");
        if (Pooling is { } p && !Enum.IsDefined(p))
            throw new DistillSharpException($"ONNX export pooling {(int)p} is unknown; use {string.Join(" or ", Enum.GetNames<Pooling>())}");
        if (!Enum.IsDefined(DynamicActivations))
            throw new DistillSharpException($"ONNX export dynamic activations {(int)DynamicActivations} unknown; use {string.Join(" or ", Enum.GetNames<OnnxDynamicActivations>())}");
        return this;
    }
}

/// <summary>What an export wrote.</summary>
/// <param name="Path">The .onnx file.</param>
/// <param name="FileBytes">Its size in bytes.</param>
/// <param name="Scheme">"fp32", or the INT8 recipe with its graph form (e.g. "int8-static: … (QDQ)").</param>
/// <param name="Int8Layers">Linear layers stored as int8.</param>
/// <param name="Fp32Layers">Linear layers kept in float32 (absent from the quantized model).</param>
/// <param name="Recipe">The quantization recipe the graph computes; null for fp32.</param>
public sealed record OnnxExportResult(string Path, long FileBytes, string Scheme, IReadOnlyList<string> Int8Layers, IReadOnlyList<string> Fp32Layers,
    string? Recipe = null);
