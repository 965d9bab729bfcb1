using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Dynamic per-row (per-token) activation quantization, fp32 → <see cref="QuantizedActivations"/>.
/// </summary>
/// <remarks>
/// Parameters per row, from the row's min and max (both widened to include 0 so that 0 is exact):
/// asymmetric u8: s = (max − min)/255, zp = round(−min/s); symmetric s8: s = max|x|/127, zp = 0
/// (stored as 128, see <see cref="QuantizedActivations"/>). A row whose range is below 1e-30 gets
/// s = 1, zp as for an all-zero row. Elements: q = clamp(round(x·(1/s)) + zp, lo, hi), i.e. we
/// multiply by the float reciprocal rather than divide. round is round-half-to-even: MathF.Round in
/// the scalar reference, the MXCSR default (vcvtps2dq) in the SIMD paths, so they agree exactly.
/// Inputs must be finite.
/// </remarks>
public static class ActivationQuantizer
{
    /// <summary>Quantizes <paramref name="rows"/> rows of <c>dst.Cols</c> floats with the fastest available code.</summary>
    public static void Quantize(ReadOnlySpan<float> x, int rows, QuantizedActivations dst) => Run(x, rows, dst, simd: true);

    /// <summary>The scalar reference that every SIMD path must match bit for bit.</summary>
    public static void QuantizeScalar(ReadOnlySpan<float> x, int rows, QuantizedActivations dst) => Run(x, rows, dst, simd: false);

    static void Run(ReadOnlySpan<float> x, int rows, QuantizedActivations dst, bool simd)
    {
        Prepare(x, rows, dst);
        QuantizeRows(x, 0, rows, dst, simd);
    }

    /// <summary>True for schemes whose parameters depend on the row alone (so rows can be quantized one by one, anywhere).</summary>
    internal static bool IsPerRow(ActivationQuantization scheme) => scheme != ActivationQuantization.PerTensorAsymmetricU8;

    /// <summary>Checks the shapes and sizes <paramref name="dst"/> for <paramref name="rows"/> rows.</summary>
    internal static void Prepare(ReadOnlySpan<float> x, int rows, QuantizedActivations dst)
    {
        ArgumentNullException.ThrowIfNull(dst);
        int cols = dst.Cols;
        if (rows < 0 || x.Length != (long)rows * cols)
            throw new DistillSharpException($"Activation input has {x.Length} floats; expected rows ({rows}) × cols ({cols}).");
        dst.SetRows(rows);
    }

    /// <summary>Rows [r0, r1) of a <see cref="Prepare"/>d buffer; rows are independent, so ranges may run on different threads.</summary>
    internal static void QuantizeRows(ReadOnlySpan<float> x, int r0, int r1, QuantizedActivations dst, bool simd)
    {
        int cols = dst.Cols;
        if (!IsPerRow(dst.Scheme))
        {
            // One (scale, zero point) from all rows [r0, r1) — the whole call, as the callers pass it.
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            for (int r = r0; r < r1; r++)
            {
                var (lo, hi) = simd ? MinMax(x.Slice(r * cols, cols)) : MinMaxScalar(x.Slice(r * cols, cols));
                min = MathF.Min(min, lo);
                max = MathF.Max(max, hi);
            }
            var (s, z) = ChooseParams(min, max, symmetric: false);
            for (int r = r0; r < r1; r++) QuantizeRow(x.Slice(r * cols, cols), r, dst, simd, s, z);
            return;
        }
        for (int r = r0; r < r1; r++) QuantizeRow(x.Slice(r * cols, cols), r, dst, simd);
    }

    /// <summary>
    /// Rows [r0, r1) with fixed parameters (a static recipe's calibrated scale and zero point; for a
    /// symmetric buffer pass the stored zero point 128). Rows are independent, as in <see cref="QuantizeRows"/>.
    /// </summary>
    internal static void QuantizeRowsFixed(ReadOnlySpan<float> x, int r0, int r1, QuantizedActivations dst, bool simd, float scale, int zeroPoint)
    {
        if (!(scale > 0) || !float.IsFinite(scale)) throw new DistillSharpException($"static activation scale must be finite and > 0, got {scale}");
        int cols = dst.Cols;
        for (int r = r0; r < r1; r++) QuantizeRow(x.Slice(r * cols, cols), r, dst, simd, scale, zeroPoint);
    }

    /// <summary>Quantizes <paramref name="row"/> (<c>dst.Cols</c> floats) into row <paramref name="r"/> of a <see cref="Prepare"/>d buffer.</summary>
    internal static void QuantizeRow(ReadOnlySpan<float> row, int r, QuantizedActivations dst, bool simd)
    {
        if (!IsPerRow(dst.Scheme)) throw new InvalidOperationException($"{dst.Scheme} needs all rows at once");
        bool symmetric = dst.Scheme == ActivationQuantization.SymmetricS8;
        var (min, max) = simd ? MinMax(row) : MinMaxScalar(row);
        var (scale, zp) = ChooseParams(min, max, symmetric);
        QuantizeRow(row, r, dst, simd, scale, zp);
    }

    static void QuantizeRow(ReadOnlySpan<float> row, int r, QuantizedActivations dst, bool simd, float scale, int zp)
    {
        bool symmetric = dst.Scheme == ActivationQuantization.SymmetricS8;
        dst.Scales[r] = scale;
        dst.ZeroPoints[r] = zp;
        int lo = symmetric ? 1 : 0;
        var outRow = dst.Data.Slice(r * dst.Stride, dst.Cols);
        int done = simd ? QuantizeSimd(row, outRow, 1f / scale, zp, lo) : 0;
        QuantizeTail(row, outRow, done, 1f / scale, zp, lo);
    }

    /// <summary>Scale and zero point of a row with the given min and max (the rule in the remarks).</summary>
    public static (float Scale, int ZeroPoint) ChooseParams(float min, float max, bool symmetric)
    {
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        if (symmetric)
        {
            float absMax = MathF.Max(-min, max);
            return absMax < 1e-30f ? (1f, 128) : (absMax / 127f, 128);
        }
        float range = max - min;
        if (range < 1e-30f) return (1f, 0);
        float scale = range / 255f;
        int zp = (int)MathF.Round(-min / scale);
        return (scale, Math.Clamp(zp, 0, 255));
    }

    static (float, float) MinMaxScalar(ReadOnlySpan<float> row)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in row) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        return (min, max);
    }

    // Native vminps/vmaxps (the IEEE Vector.Min/Max cost three dependent instructions each on AVX-512)
    // in two independent accumulators: the min and max of finite values do not depend on the order,
    // and a ±0 tie cannot change the parameters (ChooseParams widens to include 0).
    static (float, float) MinMax(ReadOnlySpan<float> row)
    {
        int i = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        ref float p = ref MemoryMarshal.GetReference(row);
        if (Vector512.IsHardwareAccelerated && row.Length >= 32)
        {
            var min0 = Vector512.Create(min); var min1 = min0;
            var max0 = Vector512.Create(max); var max1 = max0;
            for (; i <= row.Length - 32; i += 32)
            {
                var a = Vector512.LoadUnsafe(ref p, (nuint)i);
                var b = Vector512.LoadUnsafe(ref p, (nuint)i + 16);
                min0 = Vector512.MinNative(min0, a); max0 = Vector512.MaxNative(max0, a);
                min1 = Vector512.MinNative(min1, b); max1 = Vector512.MaxNative(max1, b);
            }
            var vmin = Vector512.MinNative(min0, min1);
            var vmax = Vector512.MaxNative(max0, max1);
            min = HorizontalMinMax.Min(Vector256.MinNative(vmin.GetLower(), vmin.GetUpper()));
            max = HorizontalMinMax.Max(Vector256.MaxNative(vmax.GetLower(), vmax.GetUpper()));
        }
        else if (Vector256.IsHardwareAccelerated && row.Length >= 16)
        {
            var min0 = Vector256.Create(min); var min1 = min0;
            var max0 = Vector256.Create(max); var max1 = max0;
            for (; i <= row.Length - 16; i += 16)
            {
                var a = Vector256.LoadUnsafe(ref p, (nuint)i);
                var b = Vector256.LoadUnsafe(ref p, (nuint)i + 8);
                min0 = Vector256.MinNative(min0, a); max0 = Vector256.MaxNative(max0, a);
                min1 = Vector256.MinNative(min1, b); max1 = Vector256.MaxNative(max1, b);
            }
            min = HorizontalMinMax.Min(Vector256.MinNative(min0, min1));
            max = HorizontalMinMax.Max(Vector256.MaxNative(max0, max1));
        }
        for (; i < row.Length; i++) { min = MathF.Min(min, row[i]); max = MathF.Max(max, row[i]); }
        return (min, max);
    }

    // Returns how many leading elements it quantized; the scalar tail does the rest.
    static int QuantizeSimd(ReadOnlySpan<float> row, Span<byte> dst, float inv, int zp, int lo)
    {
        int i = 0, n = row.Length;
        ref float src = ref MemoryMarshal.GetReference(row);
        ref byte outp = ref MemoryMarshal.GetReference(dst);
        if (Avx512F.IsSupported)
        {
            var vinv = Vector512.Create(inv);
            var vzp = Vector512.Create(zp);
            var vlo = Vector512.Create(lo);
            var vhi = Vector512.Create(255);
            for (; i <= n - 16; i += 16)
            {
                var q = Avx512F.ConvertToVector512Int32(Vector512.LoadUnsafe(ref src, (nuint)i) * vinv) + vzp;
                q = Vector512.Min(Vector512.Max(q, vlo), vhi);
                Avx512F.ConvertToVector128Byte(q).StoreUnsafe(ref outp, (nuint)i);
            }
        }
        else if (Avx2.IsSupported)
        {
            var vinv = Vector256.Create(inv);
            for (; i <= n - 32; i += 32)
            {
                var q0 = Convert8(ref src, i, vinv, zp, lo);
                var q1 = Convert8(ref src, i + 8, vinv, zp, lo);
                var q2 = Convert8(ref src, i + 16, vinv, zp, lo);
                var q3 = Convert8(ref src, i + 24, vinv, zp, lo);
                var bytes = Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3));
                bytes.AsByte().StoreUnsafe(ref outp, (nuint)i);
            }
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Convert8(ref float src, int i, Vector256<float> inv, int zp, int lo)
    {
        var q = Avx.ConvertToVector256Int32(Vector256.LoadUnsafe(ref src, (nuint)i) * inv) + Vector256.Create(zp);
        return Vector256.Min(Vector256.Max(q, Vector256.Create(lo)), Vector256.Create(255));
    }

    static void QuantizeTail(ReadOnlySpan<float> row, Span<byte> dst, int start, float inv, int zp, int lo)
    {
        for (int i = start; i < row.Length; i++)
        {
            int q = (int)MathF.Round(row[i] * inv) + zp;
            dst[i] = (byte)Math.Clamp(q, lo, 255);
        }
    }
}
