using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Row softmax with scale and additive key mask, in place: p = softmax(x·scale + mask). The mask
/// has one value per column (0 to keep, a large negative or −∞ to drop — BERT's extended
/// attention mask) and applies to every row. A row whose every entry is −∞ becomes all zeros.
/// </summary>
/// <remarks>
/// The SIMD path and the <see cref="SoftmaxScalar"/> reference compute identical exponentials
/// (<see cref="FastMath.Exp(float)"/>) and sum them in the same 8-lane order (<see cref="LaneOrder"/>),
/// so they agree bit for bit (tested). exp error: see <see cref="FastMath"/>.
/// </remarks>
public static class SoftmaxKernels
{
    /// <summary>Softmax over each row of <paramref name="cols"/> values of <paramref name="scores"/>.</summary>
    public static void Softmax(Span<float> scores, int cols, ReadOnlySpan<float> mask, float scale = 1f) =>
        Rows(scores, cols, mask, scale, simd: true);

    /// <summary>Scalar reference of <see cref="Softmax"/>.</summary>
    public static void SoftmaxScalar(Span<float> scores, int cols, ReadOnlySpan<float> mask, float scale = 1f) =>
        Rows(scores, cols, mask, scale, simd: false);

    /// <summary>
    /// One unmasked row in place, p = softmax(x·scale): exactly what <see cref="Softmax"/> computes
    /// for it (same products, exponentials and 8-lane sum order), with 512-bit registers where
    /// available and no per-call checks — the attention kernels' inner step. n ≥ 1.
    /// </summary>
    internal static unsafe void Row(float* x, int n, float scale)
    {
        if (!Vector256.IsHardwareAccelerated || n < 8)
        {
            Rows(new Span<float>(x, n), n, default, scale, simd: false);
            return;
        }
        bool v512 = Vector512.IsHardwareAccelerated;
        int i = 0;
        var vmax = Vector256.Create(float.NegativeInfinity);
        if (v512)
        {
            var s16 = Vector512.Create(scale);
            var m16 = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16)
            {
                var t = Vector512.Load(x + i) * s16;
                t.Store(x + i);
                m16 = Vector512.MaxNative(m16, t);
            }
            vmax = Vector256.MaxNative(m16.GetLower(), m16.GetUpper());
        }
        var s8 = Vector256.Create(scale);
        for (; i + 8 <= n; i += 8)
        {
            var t = Vector256.Load(x + i) * s8;
            t.Store(x + i);
            vmax = Vector256.MaxNative(vmax, t);
        }
        float max = HorizontalMinMax.Max(vmax);
        for (; i < n; i++) { float t = x[i] * scale; x[i] = t; max = MathF.Max(max, t); }
        if (float.IsNegativeInfinity(max)) { new Span<float>(x, n).Clear(); return; }
        i = 0;
        var acc = Vector256<float>.Zero;
        if (v512)
        {
            var m16 = Vector512.Create(max);
            for (; i + 16 <= n; i += 16)
            {
                var e = FastMath.Exp(Vector512.Load(x + i) - m16);
                e.Store(x + i);
                acc += e.GetLower();   // lane j sums elements j, j + 8, j + 16, … in order, as the 8-lane loop
                acc += e.GetUpper();
            }
        }
        var m8 = Vector256.Create(max);
        for (; i + 8 <= n; i += 8)
        {
            var e = FastMath.Exp(Vector256.Load(x + i) - m8);
            e.Store(x + i);
            acc += e;
        }
        float sum = LaneOrder.Sum(acc);
        for (; i < n; i++) { float e = FastMath.Exp(x[i] - max); x[i] = e; sum += e; }
        float inv = 1f / sum;
        i = 0;
        if (v512)
        {
            var f16 = Vector512.Create(inv);
            for (; i + 16 <= n; i += 16) (Vector512.Load(x + i) * f16).Store(x + i);
        }
        var f8 = Vector256.Create(inv);
        for (; i + 8 <= n; i += 8) (Vector256.Load(x + i) * f8).Store(x + i);
        for (; i < n; i++) x[i] *= inv;
    }

    static void Rows(Span<float> scores, int cols, ReadOnlySpan<float> mask, float scale, bool simd)
    {
        if (cols <= 0 || scores.Length % cols != 0)
            throw new DistillSharpException($"Softmax input of {scores.Length} floats is not a whole number of rows of {cols}.");
        if (!mask.IsEmpty && mask.Length != cols)
            throw new DistillSharpException($"Softmax mask has {mask.Length} values; expected 0 or cols = {cols}.");
        bool vec = simd && Vector256.IsHardwareAccelerated;
        for (int r = 0; r < scores.Length; r += cols)
        {
            var row = scores.Slice(r, cols);
            float max = ScaleMaskMax(row, mask, scale, vec);
            if (float.IsNegativeInfinity(max)) { row.Clear(); continue; }
            float inv = 1f / ExpSum(row, max, vec);
            Multiply(row, inv, vec);
        }
    }

    static float ScaleMaskMax(Span<float> row, ReadOnlySpan<float> mask, float scale, bool vec)
    {
        int i = 0;
        float max = float.NegativeInfinity;
        ref float p = ref MemoryMarshal.GetReference(row);
        if (vec && row.Length >= 8)
        {
            ref float pm = ref MemoryMarshal.GetReference(mask);
            var s = Vector256.Create(scale);
            var vmax = Vector256.Create(max);
            for (; i <= row.Length - 8; i += 8)
            {
                var t = Vector256.LoadUnsafe(ref p, (nuint)i) * s;
                if (!mask.IsEmpty) t += Vector256.LoadUnsafe(ref pm, (nuint)i);
                t.StoreUnsafe(ref p, (nuint)i);
                vmax = Vector256.MaxNative(vmax, t); // finite or −∞ scores: same max as MathF.Max (a ±0 tie gives equal differences below)
            }
            max = HorizontalMinMax.Max(vmax);
        }
        for (; i < row.Length; i++)
        {
            float t = row[i] * scale;
            if (!mask.IsEmpty) t += mask[i];
            row[i] = t;
            max = MathF.Max(max, t);
        }
        return max;
    }

    // The exponentials' sum in LaneOrder: eight running lanes over the whole 8-blocks, then the tail.
    static float ExpSum(Span<float> row, float max, bool vec)
    {
        int i = 0;
        float sum = 0;
        ref float p = ref MemoryMarshal.GetReference(row);
        if (vec && row.Length >= 8)
        {
            var m = Vector256.Create(max);
            var acc = Vector256<float>.Zero;
            for (; i <= row.Length - 8; i += 8)
            {
                var e = FastMath.Exp(Vector256.LoadUnsafe(ref p, (nuint)i) - m);
                e.StoreUnsafe(ref p, (nuint)i);
                acc += e;
            }
            sum = LaneOrder.Sum(acc);
        }
        else if (row.Length >= 8)
        {
            Span<float> lanes = stackalloc float[LaneOrder.Lanes];
            lanes.Clear();
            for (; i <= row.Length - 8; i += 8)
                for (int j = 0; j < 8; j++) { float e = FastMath.Exp(row[i + j] - max); row[i + j] = e; lanes[j] += e; }
            sum = LaneOrder.Sum(lanes);
        }
        for (; i < row.Length; i++) { float e = FastMath.Exp(row[i] - max); row[i] = e; sum += e; }
        return sum;
    }

    static void Multiply(Span<float> row, float factor, bool vec)
    {
        int i = 0;
        ref float p = ref MemoryMarshal.GetReference(row);
        if (vec)
        {
            var f = Vector256.Create(factor);
            for (; i <= row.Length - 8; i += 8) (Vector256.LoadUnsafe(ref p, (nuint)i) * f).StoreUnsafe(ref p, (nuint)i);
        }
        for (; i < row.Length; i++) row[i] *= factor;
    }
}
