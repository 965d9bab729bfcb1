using DistillSharp.Runtime.Kernels;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Export.Encoder;

/// <summary>How an INT8 graph quantizes the activations of a dynamically quantized model
/// (<see cref="Runtime.Quantization.ActivationMode.Dynamic"/>); static models always use their calibrated scales.</summary>
public enum OnnxDynamicActivations
{
    /// <summary>
    /// ONNX <c>DynamicQuantizeLinear</c>: one asymmetric uint8 scale per tensor (the whole batch),
    /// computed at run time. ONNX Runtime fuses it with the following MatMulInteger into
    /// <c>DynamicQuantizeMatMul</c>, its fastest x86 path. Coarser than our per-token reference.
    /// </summary>
    OrtPerTensor,

    /// <summary>
    /// Our reference exactly: one symmetric scale per token (row), max|x|/127, built from standard ops
    /// (ReduceMax, Div, Round, Clip) before MatMulInteger. More accurate, less fused (slower).
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
    OnnxDynamicActivations DynamicActivations = OnnxDynamicActivations.OrtPerTensor,
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
/// <param name="Scheme">"fp32", or the INT8 scheme (e.g. "int8 QDQ static (uint8 activations, per-channel int8 weights)").</param>
/// <param name="Int8Layers">Linear layers stored as int8.</param>
/// <param name="Fp32Layers">Linear layers kept in float32 (absent from the quantized model).</param>
public sealed record OnnxExportResult(string Path, long FileBytes, string Scheme, IReadOnlyList<string> Int8Layers, IReadOnlyList<string> Fp32Layers);
