using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// The smallest / largest lane of a vector by halving with native <c>vminps</c>/<c>vmaxps</c>
/// (three steps for 8 lanes), instead of a chain of IEEE <c>MathF.Min/Max</c> over the lanes (each
/// three dependent instructions on AVX-512). For lanes without NaN the result is the same value;
/// only which zero wins a −0/+0 tie may differ, which no caller depends on.
/// </summary>
internal static class HorizontalMinMax
{
    /// <summary>Smallest lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(Vector256<float> v)
    {
        var a = Vector128.MinNative(v.GetLower(), v.GetUpper());
        a = Vector128.MinNative(a, Vector128.Shuffle(a, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MinNative(a, Vector128.Shuffle(a, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }

    /// <summary>Largest lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Vector256<float> v)
    {
        var a = Vector128.MaxNative(v.GetLower(), v.GetUpper());
        a = Vector128.MaxNative(a, Vector128.Shuffle(a, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MaxNative(a, Vector128.Shuffle(a, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }
}
