using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Arm64 micro-kernel on the dot-product extension (sdot: s8 × s8 summed in fours into int32).
/// Activations are shifted to s = a − 128 (input offset 128); products of s8 values never
/// saturate because sdot accumulates in int32. Compiled everywhere, run only where
/// <see cref="Dp.IsSupported"/> (selected through the same registry and tests as the x86 kernels).
/// </summary>
internal static unsafe class ArmDotTileKernel
{
    /// <summary>Same contract as <see cref="Int8TileKernels.Scalar"/>.</summary>
    public static void Tile(byte* a, nint lda, sbyte* b, int kGroups, int rows, int blocks, nint blockStride, int* acc,
        int* negCorrections, int* columnSums)
    {
        var flip = Vector128.Create((byte)0x80);
        for (int r0 = 0; r0 < rows; r0 += 2)
        {
            bool two = r0 + 1 < rows;
            byte* ar0 = a + r0 * lda, ar1 = two ? ar0 + lda : ar0;
            Vector128<int> c00 = default, c01 = default, c02 = default, c03 = default;
            Vector128<int> c10 = default, c11 = default, c12 = default, c13 = default;
            sbyte* bp = b;
            for (int g = 0; g < kGroups; g++, bp += 64)
            {
                var b0 = Vector128.Load(bp);
                var b1 = Vector128.Load(bp + 16);
                var b2 = Vector128.Load(bp + 32);
                var b3 = Vector128.Load(bp + 48);
                var s = (Vector128.Create(*(int*)(ar0 + g * 4)).AsByte() ^ flip).AsSByte();
                c00 = Dp.DotProduct(c00, s, b0);
                c01 = Dp.DotProduct(c01, s, b1);
                c02 = Dp.DotProduct(c02, s, b2);
                c03 = Dp.DotProduct(c03, s, b3);
                s = (Vector128.Create(*(int*)(ar1 + g * 4)).AsByte() ^ flip).AsSByte();
                c10 = Dp.DotProduct(c10, s, b0);
                c11 = Dp.DotProduct(c11, s, b1);
                c12 = Dp.DotProduct(c12, s, b2);
                c13 = Dp.DotProduct(c13, s, b3);
            }
            int* row = acc + r0 * 16;
            c00.Store(row); c01.Store(row + 4); c02.Store(row + 8); c03.Store(row + 12);
            if (two)
            {
                row += 16;
                c10.Store(row); c11.Store(row + 4); c12.Store(row + 8); c13.Store(row + 12);
            }
        }
    }
}
