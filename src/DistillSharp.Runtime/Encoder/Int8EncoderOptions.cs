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
public sealed record Int8EncoderOptions(int Threads = 1, bool Fuse = true, string? Kernel = null, bool Int8WordEmbeddings = true)
{
    /// <summary>Throws <see cref="DistillSharpException"/> naming the bad field.</summary>
    public Int8EncoderOptions Validate()
    {
        if (Threads < 1) throw new DistillSharpException($"INT8 runtime threads must be >= 1, got {Threads}");
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
    public int[] Ids = [], Positions = [], Types = [], Starts = [], Lengths = [];
    public float[] Hidden = [], Attended = [], Projection = [], Context = [], Qkv = [], Ffn = [], LastHidden = [], Pooled = [];

    /// <summary>Bytes of every buffer for <paramref name="tokens"/> real tokens in <paramref name="batch"/> × <paramref name="length"/>.</summary>
    public static long Bytes(long tokens, long batch, long length, long hidden, long ffn) =>
        sizeof(int) * (3 * tokens + 2 * batch) + sizeof(float) * (tokens * (7 * hidden + ffn) + batch * length * hidden + batch * hidden);

    /// <summary>Grows every buffer that is too small for <paramref name="tokens"/> real tokens in <paramref name="batch"/> × <paramref name="length"/> (sizes checked by the caller; overflow throws).</summary>
    public void Ensure(int tokens, int batch, int length)
    {
        checked
        {
            _ = tokens * 3 * hidden + tokens * ffn + batch * length * hidden;
        }
        Grow(ref Ids, tokens);
        Grow(ref Positions, tokens);
        Grow(ref Types, tokens);
        Grow(ref Starts, batch);
        Grow(ref Lengths, batch);
        Grow(ref Hidden, tokens * hidden);
        Grow(ref Attended, tokens * hidden);
        Grow(ref Projection, tokens * hidden);
        Grow(ref Context, tokens * hidden);
        Grow(ref Qkv, tokens * 3 * hidden);
        Grow(ref Ffn, tokens * ffn);
        Grow(ref LastHidden, batch * length * hidden);
        Grow(ref Pooled, batch * hidden);
    }

    static void Grow<T>(ref T[] array, int needed)
    {
        if (array.Length >= needed) return;
        array = GC.AllocateUninitializedArray<T>(Math.Max(needed, array.Length + array.Length / 2), pinned: true);
    }
}
