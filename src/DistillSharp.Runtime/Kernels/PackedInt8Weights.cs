namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Symmetric int8 weights of a linear layer, packed once for the GEMM kernels, with their
/// per-output-channel scales and column sums.
/// </summary>
/// <remarks>
/// Input layout is <c>nn.Linear</c>'s: <c>weights[n·K + k]</c> for output n, input k (that is Bᵀ
/// of C = A·B). Packed layout: columns in blocks of <see cref="BlockColumns"/> = 16; inside a block,
/// K in groups of 4; each group stores 16 columns × 4 consecutive k (64 bytes, column-major inside
/// the group), so one 256-bit load holds 8 columns × 4 k — the operand shape of vpdpbusd,
/// vpmaddubsw and sdot. Padding (k ≥ K, n ≥ N) is 0. Weights must lie in [−127, 127]: the AVX2
/// kernel negates weights, and −128 has no int8 negation.
/// </remarks>
public sealed class PackedInt8Weights
{
    /// <summary>Columns per packed block.</summary>
    public const int BlockColumns = 16;

    /// <summary>Packs <paramref name="weights"/> (<c>N × K</c>, row n = output channel n).</summary>
    public PackedInt8Weights(ReadOnlySpan<sbyte> weights, ReadOnlySpan<float> scales, int n, int k)
    {
        if (n <= 0 || k <= 0) throw new DistillSharpException($"Weight shape must be positive, got N={n}, K={k}.");
        if (k > MaxK) throw new DistillSharpException($"K={k} exceeds {MaxK}, the largest K whose int32 sums cannot overflow.");
        if (weights.Length != (long)n * k)
            throw new DistillSharpException($"Weights have {weights.Length} values; expected N ({n}) × K ({k}) = {(long)n * k}.");
        if (scales.Length != n) throw new DistillSharpException($"Weight scales have {scales.Length} values; expected N = {n}.");
        N = n;
        K = k;
        KGroups = (k + 3) / 4;
        Blocks = (n + BlockColumns - 1) / BlockColumns;
        Data = GC.AllocateArray<sbyte>(Blocks * BlockStride, pinned: true);
        ColumnSums = new int[Blocks * BlockColumns];
        Scales = scales.ToArray();
        for (int col = 0; col < n; col++)
        {
            int block = col / BlockColumns, c = col % BlockColumns, sum = 0;
            for (int kk = 0; kk < k; kk++)
            {
                sbyte w = weights[col * k + kk];
                if (w == sbyte.MinValue)
                    throw new DistillSharpException($"Weight [{col}, {kk}] is -128; int8 weights must lie in [-127, 127].");
                Data[block * BlockStride + (kk / 4) * 64 + c * 4 + kk % 4] = w;
                sum += w;
            }
            ColumnSums[col] = sum;
        }
    }

    /// <summary>Largest supported K: 255·127·K must stay well inside int32.</summary>
    public const int MaxK = 32768;

    /// <summary>Output channels (columns of C).</summary>
    public int N { get; }

    /// <summary>Input features (the reduction length).</summary>
    public int K { get; }

    /// <summary>Number of 4-wide K groups (K rounded up, divided by 4).</summary>
    public int KGroups { get; }

    /// <summary>Number of 16-column blocks.</summary>
    public int Blocks { get; }

    /// <summary>Bytes per packed block: KGroups × 64.</summary>
    public int BlockStride => KGroups * 64;

    /// <summary>The packed bytes (pinned, so kernels may hold raw pointers).</summary>
    public sbyte[] Data { get; }

    /// <summary>Σ_k w[n, k] per column (padded to whole blocks with 0), for zero-point correction.</summary>
    public int[] ColumnSums { get; }

    /// <summary>Per-output-channel scales.</summary>
    public float[] Scales { get; }

    /// <summary>The weight of output <paramref name="col"/> at input <paramref name="k"/>, read back from the packed layout.</summary>
    public sbyte this[int col, int k] =>
        Data[col / BlockColumns * BlockStride + (k / 4) * 64 + col % BlockColumns * 4 + k % 4];
}
