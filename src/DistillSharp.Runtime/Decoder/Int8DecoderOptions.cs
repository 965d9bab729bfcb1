using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Quantization;
namespace DistillSharp.Runtime.Decoder;

/// <summary>How the Linear layers of an <see cref="Int8Decoder"/> compute.</summary>
public enum Int8DecoderMode
{
    /// <summary>
    /// int8 weights (per output channel, symmetric) × int8 activations quantized per token at run
    /// time (asymmetric u8 by default), int32 accumulation (<see cref="Kernels.Int8Gemm"/>).
    /// </summary>
    Dynamic,
    /// <summary>
    /// int8 weights dequantized once to fp32 at load (W_q · s_w), fp32 activations and fp32 GEMM
    /// (<see cref="Fp32Gemm"/>). Files are int8-sized; resident weights are fp32-sized, because the
    /// GEMM kernels have no int8-weight × fp32-activation path.
    /// </summary>
    WeightOnly,
}

/// <summary>How an <see cref="Int8Decoder"/> is built and runs.</summary>
/// <param name="Threads">Threads per call, the caller included (≥ 1).</param>
/// <param name="Mode">Dynamic int8 activations (default) or weight-only.</param>
/// <param name="LmHeadFp32">Keep lm_head in fp32 (the tied embedding's fp32 values when tied).</param>
/// <param name="Int8Embeddings">
/// Keep the token embedding table in int8 per row (<see cref="Int8EmbeddingTable"/>; default). With
/// tied embeddings and an int8 lm_head the table is the lm_head's own int8 weights, so both agree.
/// </param>
/// <param name="ActivationSymmetric">Symmetric s8 per-token activations instead of asymmetric u8.</param>
/// <param name="Kernel">int8 micro-kernel name (<see cref="Kernels.Int8KernelRegistry"/>); null = the best available.</param>
public sealed record Int8DecoderOptions(int Threads = 1, Int8DecoderMode Mode = Int8DecoderMode.Dynamic, bool LmHeadFp32 = false,
    bool Int8Embeddings = true, bool ActivationSymmetric = false, string? Kernel = null)
{
    /// <summary>Mode names as written in configs and on the command line.</summary>
    public static readonly IReadOnlyDictionary<string, Int8DecoderMode> ModeNames = new Dictionary<string, Int8DecoderMode>
    {
        ["dynamic"] = Int8DecoderMode.Dynamic,
        ["weight_only"] = Int8DecoderMode.WeightOnly,
    };

    /// <summary>The mode called <paramref name="name"/> ("dynamic" or "weight_only").</summary>
    public static Int8DecoderMode ParseMode(string name) =>
        ModeNames.TryGetValue(name, out var m) ? m
            : throw new DistillSharpException($"INT8 decoder mode '{name}' is unknown; known: {string.Join(", ", ModeNames.Keys)}");

    /// <summary>Throws <see cref="DistillSharpException"/> naming the bad field.</summary>
    public Int8DecoderOptions Validate()
    {
        if (Threads < 1) throw new DistillSharpException($"INT8 decoder threads must be >= 1, got {Threads}");
        if (!Enum.IsDefined(Mode)) throw new DistillSharpException($"INT8 decoder mode {Mode} is unknown; known: {string.Join(", ", ModeNames.Keys)}");
        return this;
    }
}
