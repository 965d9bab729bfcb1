using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSharp.Runtime.Kernels;

/// <summary>Activation fused into the GEMM's output stage.</summary>
public enum GemmActivation
{
    /// <summary>Plain dequantized output (+ bias).</summary>
    None,
    /// <summary>Exact erf GELU after the bias (<see cref="FastMath.Gelu(float)"/>).</summary>
    Gelu,
}

/// <summary>
/// Turns int32 accumulators into fp32 outputs: y = (float)acc · (rowScale · colScale[n]) + bias[n],
/// then the optional activation. Every GEMM kernel and the reference share this code, and the
/// vector and scalar forms perform the same IEEE operations, so outputs agree bit for bit.
/// </summary>
internal static unsafe class GemmEpilogue
{
    /// <summary>One element — the definition the vector path reproduces.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(int acc, float rowScale, float colScale, float* bias, int n, GemmActivation act)
    {
        float y = (float)acc * (rowScale * colScale);
        if (bias != null) y += bias[n];
        return act == GemmActivation.Gelu ? FastMath.Gelu(y) : y;
    }

    /// <summary>
    /// Writes one row of a tile: <paramref name="cols"/> outputs starting at column <paramref name="n0"/>,
    /// from raw accumulators corrected by <c>correction · columnSums[n]</c> (0 = already corrected).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(int* acc, int cols, int correction, float rowScale, int n0, int* columnSums,
        float* colScales, float* bias, GemmActivation act, float* output)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vcorr = Vector512.Create(correction);
            var vrow = Vector512.Create(rowScale);
            for (; c <= cols - 16; c += 16)
            {
                var a = Vector512.Load(acc + c);
                if (correction != 0) a -= vcorr * Vector512.Load(columnSums + n0 + c);
                var y = Vector512.ConvertToSingle(a) * (vrow * Vector512.Load(colScales + n0 + c));
                if (bias != null) y += Vector512.Load(bias + n0 + c);
                if (act == GemmActivation.Gelu) y = FastMath.Gelu(y);
                y.Store(output + c);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vcorr = Vector256.Create(correction);
            var vrow = Vector256.Create(rowScale);
            for (; c <= cols - 8; c += 8)
            {
                var a = Vector256.Load(acc + c);
                if (correction != 0) a -= vcorr * Vector256.Load(columnSums + n0 + c);
                var y = Vector256.ConvertToSingle(a) * (vrow * Vector256.Load(colScales + n0 + c));
                if (bias != null) y += Vector256.Load(bias + n0 + c);
                if (act == GemmActivation.Gelu) y = FastMath.Gelu(y);
                y.Store(output + c);
            }
        }
        for (; c < cols; c++)
        {
            int a = acc[c] - correction * columnSums[n0 + c];
            output[c] = Element(a, rowScale, colScales[n0 + c], bias, n0 + c, act);
        }
    }
}
