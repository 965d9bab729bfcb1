using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Element-wise fp32 kernels: GELU, bias + GELU (fused), bias add and residual add. The SIMD forms
/// and the <c>*Scalar</c> references perform identical IEEE operations per element, so they agree
/// bit for bit (error of GELU itself: see <see cref="FastMath"/>).
/// </summary>
public static class ElementwiseKernels
{
    /// <summary>x ← GELU(x).</summary>
    public static void Gelu(Span<float> x)
    {
        int i = 0;
        ref float p = ref MemoryMarshal.GetReference(x);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8)
                FastMath.Gelu(Vector256.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
        for (; i < x.Length; i++) x[i] = FastMath.Gelu(x[i]);
    }

    /// <summary>Scalar reference of <see cref="Gelu(Span{float})"/>.</summary>
    public static void GeluScalar(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = FastMath.Gelu(x[i]);
    }

    /// <summary>x[r, c] ← x[r, c] + bias[c] for rows of <c>bias.Length</c> values.</summary>
    public static void AddBias(Span<float> x, ReadOnlySpan<float> bias) => BiasRows(x, bias, gelu: false, simd: true);

    /// <summary>x[r, c] ← GELU(x[r, c] + bias[c]) in one pass (fused).</summary>
    public static void BiasGelu(Span<float> x, ReadOnlySpan<float> bias) => BiasRows(x, bias, gelu: true, simd: true);

    /// <summary>Scalar reference of <see cref="BiasGelu"/>.</summary>
    public static void BiasGeluScalar(Span<float> x, ReadOnlySpan<float> bias) => BiasRows(x, bias, gelu: true, simd: false);

    /// <summary>output ← x + residual (all of one length; output may alias x).</summary>
    public static void ResidualAdd(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> output)
    {
        if (x.Length != residual.Length || x.Length != output.Length)
            throw new DistillSharpException($"Residual add needs equal lengths, got x={x.Length}, residual={residual.Length}, output={output.Length}.");
        int i = 0;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pr = ref MemoryMarshal.GetReference(residual);
        ref float po = ref MemoryMarshal.GetReference(output);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8)
                (Vector256.LoadUnsafe(ref px, (nuint)i) + Vector256.LoadUnsafe(ref pr, (nuint)i)).StoreUnsafe(ref po, (nuint)i);
        for (; i < x.Length; i++) output[i] = x[i] + residual[i];
    }

    static void BiasRows(Span<float> x, ReadOnlySpan<float> bias, bool gelu, bool simd)
    {
        int cols = bias.Length;
        if (cols == 0 || x.Length % cols != 0)
            throw new DistillSharpException($"Input of {x.Length} floats is not a whole number of rows of bias length {cols}.");
        ref float pb = ref MemoryMarshal.GetReference(bias);
        for (int r = 0; r < x.Length; r += cols)
        {
            var row = x.Slice(r, cols);
            ref float p = ref MemoryMarshal.GetReference(row);
            int i = 0;
            if (simd && Vector256.IsHardwareAccelerated)
                for (; i <= cols - 8; i += 8)
                {
                    var v = Vector256.LoadUnsafe(ref p, (nuint)i) + Vector256.LoadUnsafe(ref pb, (nuint)i);
                    (gelu ? FastMath.Gelu(v) : v).StoreUnsafe(ref p, (nuint)i);
                }
            for (; i < cols; i++)
            {
                float v = row[i] + bias[i];
                row[i] = gelu ? FastMath.Gelu(v) : v;
            }
        }
    }
}
