using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Row-wise LayerNorm, y = (h − mean)·rsqrt(var + eps)·γ + β with biased variance (as BERT), where
/// h is x or the residual sum x + r, optionally followed by GELU — fused into one kernel that
/// reads each row once from memory and keeps it in L1 for the remaining passes.
/// </summary>
/// <remarks>
/// Mean and variance use two passes (sum, then Σ(h − mean)²). Both sums run in 8 lanes combined in
/// <see cref="LaneOrder"/>'s order; the <c>*Scalar</c> reference emulates those lanes, so SIMD and
/// scalar outputs are bit-identical (tested).
/// </remarks>
public static class LayerNormKernels
{
    /// <summary>output[r] ← LayerNorm(x[r]) for rows of <c>gamma.Length</c> values.</summary>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> output) =>
        Rows(x, default, gamma, beta, eps, output, gelu: false, simd: true);

    /// <summary>output[r] ← LayerNorm(x[r] + residual[r]) in one pass over memory (fused).</summary>
    public static void ResidualLayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, float eps, Span<float> output) =>
        Rows(x, residual, gamma, beta, eps, output, gelu: false, simd: true);

    /// <summary>output[r] ← GELU(LayerNorm(x[r] + residual[r])) (fused).</summary>
    public static void ResidualLayerNormGelu(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, float eps, Span<float> output) =>
        Rows(x, residual, gamma, beta, eps, output, gelu: true, simd: true);

    /// <summary>Scalar reference of all variants: empty <paramref name="residual"/> = none.</summary>
    public static void LayerNormScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, float eps, Span<float> output, bool gelu) =>
        Rows(x, residual, gamma, beta, eps, output, gelu, simd: false);

    static void Rows(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        float eps, Span<float> output, bool gelu, bool simd)
    {
        int cols = gamma.Length;
        if (cols == 0 || beta.Length != cols || x.Length % cols != 0 || output.Length != x.Length
            || (!residual.IsEmpty && residual.Length != x.Length))
            throw new DistillSharpException(
                $"LayerNorm shapes disagree: x={x.Length}, residual={residual.Length}, gamma={gamma.Length}, beta={beta.Length}, output={output.Length}; " +
                "x must be whole rows of gamma's length, beta and output must match.");
        if (!(eps > 0)) throw new DistillSharpException($"LayerNorm eps must be > 0, got {eps}.");
        bool vec = simd && Vector256.IsHardwareAccelerated;
        for (int r = 0; r < x.Length; r += cols)
        {
            var h = output.Slice(r, cols);
            if (residual.IsEmpty) x.Slice(r, cols).CopyTo(h);
            else ElementwiseAdd(x.Slice(r, cols), residual.Slice(r, cols), h, vec);
            float mean = Sum(h, vec) / cols;
            float var = SquaredDeviation(h, mean, vec) / cols;
            float rstd = 1f / MathF.Sqrt(var + eps);
            Normalize(h, mean, rstd, gamma, beta, gelu && !vec, vec);
            // GELU as its own pass over the row while it is still in L1: measured faster than GELU
            // inside the normalize loop (that loop's longer dependency chain overlaps worse).
            if (gelu && vec) ElementwiseKernels.Gelu(h);
        }
    }

    static void ElementwiseAdd(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst, bool vec)
    {
        if (vec) { ElementwiseKernels.ResidualAdd(a, b, dst); return; }
        for (int i = 0; i < dst.Length; i++) dst[i] = a[i] + b[i];
    }

    // Sums as LaneOrder: eight running lanes over the whole 8-blocks, combined in its order, then the tail.
    static float Sum(ReadOnlySpan<float> h, bool vec)
    {
        int i = 0;
        float s = 0;
        if (h.Length >= LaneOrder.Lanes && vec)
        {
            ref float p = ref MemoryMarshal.GetReference(h);
            var acc = Vector256<float>.Zero;
            for (; i <= h.Length - 8; i += 8) acc += Vector256.LoadUnsafe(ref p, (nuint)i);
            s = LaneOrder.Sum(acc);
        }
        else if (h.Length >= LaneOrder.Lanes)
        {
            Span<float> lanes = stackalloc float[LaneOrder.Lanes];
            lanes.Clear();
            for (; i <= h.Length - 8; i += 8)
                for (int j = 0; j < 8; j++) lanes[j] += h[i + j];
            s = LaneOrder.Sum(lanes);
        }
        for (; i < h.Length; i++) s += h[i];
        return s;
    }

    static float SquaredDeviation(ReadOnlySpan<float> h, float mean, bool vec)
    {
        int i = 0;
        float s = 0;
        if (h.Length >= LaneOrder.Lanes && vec)
        {
            ref float p = ref MemoryMarshal.GetReference(h);
            var acc = Vector256<float>.Zero;
            var m = Vector256.Create(mean);
            for (; i <= h.Length - 8; i += 8)
            {
                var d = Vector256.LoadUnsafe(ref p, (nuint)i) - m;
                acc = Vector256.FusedMultiplyAdd(d, d, acc);
            }
            s = LaneOrder.Sum(acc);
        }
        else if (h.Length >= LaneOrder.Lanes)
        {
            Span<float> lanes = stackalloc float[LaneOrder.Lanes];
            lanes.Clear();
            for (; i <= h.Length - 8; i += 8)
                for (int j = 0; j < 8; j++) { float d = h[i + j] - mean; lanes[j] = MathF.FusedMultiplyAdd(d, d, lanes[j]); }
            s = LaneOrder.Sum(lanes);
        }
        for (; i < h.Length; i++) { float d = h[i] - mean; s = MathF.FusedMultiplyAdd(d, d, s); }
        return s;
    }

    static void Normalize(Span<float> h, float mean, float rstd, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, bool gelu, bool vec)
    {
        int i = 0;
        if (vec)
        {
            ref float p = ref MemoryMarshal.GetReference(h);
            ref float g = ref MemoryMarshal.GetReference(gamma);
            ref float b = ref MemoryMarshal.GetReference(beta);
            var m = Vector256.Create(mean);
            var s = Vector256.Create(rstd);
            for (; i <= h.Length - 8; i += 8)
                Vector256.FusedMultiplyAdd((Vector256.LoadUnsafe(ref p, (nuint)i) - m) * s,
                    Vector256.LoadUnsafe(ref g, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
        }
        for (; i < h.Length; i++)
        {
            float y = MathF.FusedMultiplyAdd((h[i] - mean) * rstd, gamma[i], beta[i]);
            h[i] = gelu ? FastMath.Gelu(y) : y;
        }
    }
}
