using DistillSharp.Runtime.Quantization;
namespace DistillSharp.Runtime.Encoder;

/// <summary>How an <see cref="Int8Encoder"/> runs.</summary>
/// <param name="Threads">Threads per forward pass, the caller included (≥ 1).</param>
/// <param name="Fuse">
/// Fused kernels: bias + GELU in the GEMM epilogue and residual + LayerNorm as one kernel. False
/// runs them as separate passes over memory (same arithmetic up to float summation order in
/// LayerNorm; for measuring what fusion buys).
/// </param>
/// <param name="Kernel">int8 micro-kernel name (see <see cref="Kernels.Int8KernelRegistry"/>); null = the best available.</param>
/// <param name="Int8WordEmbeddings">
/// Keep the word embedding table in int8 per row (<see cref="Int8EmbeddingTable"/>; default): float
/// word embeddings are quantized when the encoder is built, and <see cref="Int8Encoder.Save"/> writes
/// the int8 table. False keeps (or dequantizes to) float word embeddings, as the fp32 model computes them.
/// </param>
/// <param name="MaxPassTokens">
/// Real tokens per pass through the layers (≥ 1): a batch runs as consecutive groups of whole
/// sequences up to this size (a longer sequence runs alone). Outputs do not depend on it; 256 keeps
/// a pass of the default 384-wide student inside a 2 MiB L2 cache (measured: docs/BENCHMARKS.md).
/// </param>
/// <param name="PerTensorActivations">
/// Quantize each Linear's input with one asymmetric uint8 scale for the whole pass instead of one
/// per token (<see cref="Kernels.ActivationQuantization.PerTensorAsymmetricU8"/>, the scheme of ONNX
/// Runtime's DynamicQuantizeMatMul), for comparing the two schemes on one runtime; set
/// <paramref name="MaxPassTokens"/> to int.MaxValue for one tensor per batch as ONNX Runtime has.
/// </param>
/// <param name="ParallelPasses">
/// With several threads, run whole passes side by side, one per thread, when a batch has enough of
/// them (default); false spreads every op of every pass over the threads (for comparison). Outputs
/// are the same bit for bit either way.
/// </param>
public sealed record Int8EncoderOptions(int Threads = 1, bool Fuse = true, string? Kernel = null, bool Int8WordEmbeddings = true,
    int MaxPassTokens = 256, bool PerTensorActivations = false, bool ParallelPasses = true)
{
    /// <summary>Throws <see cref="DistillSharpException"/> naming the bad field.</summary>
    public Int8EncoderOptions Validate()
    {
        if (Threads < 1) throw new DistillSharpException($"INT8 runtime threads must be >= 1, got {Threads}");
        if (MaxPassTokens < 1) throw new DistillSharpException($"INT8 runtime tokens per pass must be >= 1, got {MaxPassTokens}");
        return this;
    }
}

/// <summary>
/// The result of <see cref="Int8Encoder.Forward"/>: views of the encoder's output buffers, valid
/// until its next forward pass (copy them with <see cref="ToArrays"/> to keep them).
/// </summary>
/// <param name="LastHiddenState">(Batch, Length, Hidden) row-major; rows of padding tokens are 0.</param>
/// <param name="Pooled">(Batch, Hidden) sentence embeddings (pooled, normalised if the encoder normalises).</param>
/// <param name="Batch">Sequences.</param>
/// <param name="Length">Padded length T of the batch.</param>
/// <param name="Hidden">Hidden size H.</param>
public readonly record struct Int8EncoderOutput(ReadOnlyMemory<float> LastHiddenState, ReadOnlyMemory<float> Pooled, int Batch, int Length, int Hidden)
{
    /// <summary>Copies of both outputs.</summary>
    public (float[] LastHiddenState, float[] Pooled) ToArrays() => (LastHiddenState.ToArray(), Pooled.ToArray());

    /// <summary>The embedding of sequence <paramref name="b"/>.</summary>
    public ReadOnlySpan<float> Embedding(int b) => Pooled.Span.Slice(b * Hidden, Hidden);
}

/// <summary>
/// Buffers of one forward pass, sized for a number of real tokens N, sequences B and padded length
/// T; they only grow, so repeated calls of the same (or smaller) shape allocate nothing.
/// </summary>
internal sealed class EncoderWorkspace(int hidden, int ffn)
{
    public int[] Ids = [], Positions = [], Types = [], Starts = [], Lengths = [], SequenceTokens = [];
    public float[] Hidden = [], Attended = [], Projection = [], Context = [], Qkv = [], Ffn = [], LastHidden = [], Pooled = [];

    /// <summary>
    /// Bytes of every buffer for passes of at most <paramref name="passTokens"/> real tokens over
    /// <paramref name="batch"/> × <paramref name="length"/>, with the per-pass buffers held by
    /// <paramref name="lanes"/> workspaces (passes running side by side).
    /// </summary>
    public static long Bytes(long passTokens, long batch, long length, long hidden, long ffn, long lanes = 1) =>
        sizeof(int) * (3 * passTokens * lanes + 3 * batch)
        + sizeof(float) * (passTokens * (7 * hidden + ffn) * lanes + batch * length * hidden + batch * hidden);

    /// <summary>Grows the outputs for <paramref name="batch"/> × <paramref name="length"/> (sizes checked by the caller with <see cref="Bytes"/>).</summary>
    public void EnsureOutputs(int batch, int length)
    {
        Grow(ref SequenceTokens, batch);
        Grow(ref LastHidden, batch * length * hidden);
        Grow(ref Pooled, batch * hidden);
    }

    /// <summary>Grows the per-pass buffers for <paramref name="tokens"/> real tokens in <paramref name="sequences"/> sequences.</summary>
    public void EnsurePass(int tokens, int sequences)
    {
        Grow(ref Ids, tokens);
        Grow(ref Positions, tokens);
        Grow(ref Types, tokens);
        Grow(ref Starts, sequences);
        Grow(ref Lengths, sequences);
        Grow(ref Hidden, tokens * hidden);
        Grow(ref Attended, tokens * hidden);
        Grow(ref Projection, tokens * hidden);
        Grow(ref Context, tokens * hidden);
        Grow(ref Qkv, tokens * 3 * hidden);
        Grow(ref Ffn, tokens * ffn);
    }

    static void Grow<T>(ref T[] array, int needed)
    {
        if (array.Length >= needed) return;
        array = GC.AllocateUninitializedArray<T>(Math.Max(needed, array.Length + array.Length / 2), pinned: true);
    }
}
