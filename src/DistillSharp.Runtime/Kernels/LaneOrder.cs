using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// The one order in which our SIMD reductions combine their eight partial sums:
/// <c>((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))</c>. A reduction over n values keeps lane j
/// = the running sum of elements j, j + 8, j + 16, … of the whole 8-blocks, combines the lanes in this
/// order, then adds the tail (n mod 8 values) one by one. Scalar references emulate exactly that
/// (eight running sums, then <see cref="Sum(ReadOnlySpan{float})"/>, then the tail), so a SIMD kernel
/// and its scalar twin agree bit for bit. This is also the order .NET 10's <c>Vector256.Sum</c> uses
/// on x64 (checked by a test), so outputs did not change when the kernels switched to it.
/// </summary>
internal static class LaneOrder
{
    /// <summary>Lanes of a Vector256&lt;float&gt;.</summary>
    public const int Lanes = 8;

    /// <summary>The lanes of <paramref name="v"/> combined in the fixed order (two horizontal adds, then the halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v)
    {
        if (Avx.IsSupported)
        {
            var h = Avx.HorizontalAdd(v, v);   // (l0+l1, l2+l3, ., . | l4+l5, l6+l7, ., .)
            h = Avx.HorizontalAdd(h, h);       // ((l0+l1)+(l2+l3), … | (l4+l5)+(l6+l7), …)
            return h.GetElement(0) + h.GetElement(4);
        }
        return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
    }

    /// <summary>Eight scalar lanes combined in the fixed order.</summary>
    public static float Sum(ReadOnlySpan<float> lanes) =>
        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}
