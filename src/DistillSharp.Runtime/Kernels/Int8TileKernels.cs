using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// The x86 and scalar micro-kernels: each computes a tile of up to <see cref="MaxRows"/> rows × 16
/// columns of raw int32 dot products between activation bytes and one packed weight block.
/// </summary>
/// <remarks>
/// Contract (see <see cref="Int8KernelRegistry"/>): <c>acc[r·16·TileBlocks + j·16 + c] = Σ_k (a[r·lda + k] − offset)·w_j[k, c]</c>
/// for block j &lt; blocks (at <c>b + j·blockStride</c>), where offset is the kernel's input offset (0 for
/// kernels that take activations as u8, 128 for kernels that work on signed bytes). The driver turns
/// that into Σ (a − zp)·w exactly. The kernels here take one block per call (TileBlocks 1).
/// </remarks>
internal static unsafe class Int8TileKernels
{
    /// <summary>Most rows any micro-kernel call handles (the driver's accumulator tile height).</summary>
    public const int MaxRows = 8;

    /// <summary>Plain loops over the packed layout.</summary>
    public static void Scalar(byte* a, nint lda, sbyte* b, int kGroups, int rows, int blocks, nint blockStride, int* acc,
        int* negCorrections, int* columnSums)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < 16; c++)
            {
                int sum = 0;
                for (int g = 0; g < kGroups; g++)
                    for (int j = 0; j < 4; j++)
                        sum += a[r * lda + g * 4 + j] * b[g * 64 + c * 4 + j];
                acc[r * 16 + c] = sum;
            }
    }

    /// <summary>
    /// AVX-VNNI vpdpbusd: u8 × s8 summed in fours straight into int32, so no intermediate
    /// saturation. Full tiles are 8 rows × 16 columns when AVX-512 is present (16 accumulators;
    /// the JIT then uses ymm16–31 via EVEX), else 4 rows × 16 columns; leftover rows run one by one.
    /// </summary>
    public static void AvxVnni256(byte* a, nint lda, sbyte* b, int kGroups, int rows, int blocks, nint blockStride, int* acc,
        int* negCorrections, int* columnSums)
    {
        if (rows == 8) { Vnni8Rows(a, lda, b, kGroups, acc); return; }
        int r = 0;
        for (; r + 4 <= rows; r += 4) Vnni4Rows(a + r * lda, lda, b, kGroups, acc + r * 16);
        for (; r < rows; r++)
        {
            Vector256<int> c0 = default, c1 = default;
            byte* ar = a + r * lda;
            sbyte* bp = b;
            for (int g = 0; g < kGroups; g++, bp += 64)
            {
                var x = Vector256.Create(*(int*)(ar + g * 4)).AsByte();
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, x, Vector256.Load(bp));
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, x, Vector256.Load(bp + 32));
            }
            Store(acc, r, c0, c1);
        }
    }

    // 8 accumulators: fits the 16 VEX registers of CPUs with AVX-VNNI but without AVX-512.
    static void Vnni4Rows(byte* a, nint lda, sbyte* b, int kGroups, int* acc)
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<int> c20 = default, c21 = default, c30 = default, c31 = default;
        nint l3 = 3 * lda;
        for (int g = 0; g < kGroups; g++, b += 64, a += 4)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 32);
            var x = Vector256.Create(*(int*)a).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            x = Vector256.Create(*(int*)(a + lda)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
            x = Vector256.Create(*(int*)(a + 2 * lda)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
            x = Vector256.Create(*(int*)(a + l3)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
        }
        Store(acc, 0, c00, c01); Store(acc, 1, c10, c11); Store(acc, 2, c20, c21); Store(acc, 3, c30, c31);
    }

    static void Vnni8Rows(byte* a, nint lda, sbyte* b, int kGroups, int* acc)
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<int> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<int> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector256<int> c60 = default, c61 = default, c70 = default, c71 = default;
        byte* a4 = a + 4 * lda;
        nint l3 = 3 * lda;
        for (int g = 0; g < kGroups; g++, b += 64, a += 4, a4 += 4)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 32);
            var x = Vector256.Create(*(int*)a).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            x = Vector256.Create(*(int*)(a + lda)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
            x = Vector256.Create(*(int*)(a + 2 * lda)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
            x = Vector256.Create(*(int*)(a + l3)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
            x = Vector256.Create(*(int*)a4).AsByte();
            c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, b0);
            c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, b1);
            x = Vector256.Create(*(int*)(a4 + lda)).AsByte();
            c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, b0);
            c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, b1);
            x = Vector256.Create(*(int*)(a4 + 2 * lda)).AsByte();
            c60 = AvxVnni.MultiplyWideningAndAdd(c60, x, b0);
            c61 = AvxVnni.MultiplyWideningAndAdd(c61, x, b1);
            x = Vector256.Create(*(int*)(a4 + l3)).AsByte();
            c70 = AvxVnni.MultiplyWideningAndAdd(c70, x, b0);
            c71 = AvxVnni.MultiplyWideningAndAdd(c71, x, b1);
        }
        Store(acc, 0, c00, c01); Store(acc, 1, c10, c11); Store(acc, 2, c20, c21); Store(acc, 3, c30, c31);
        Store(acc, 4, c40, c41); Store(acc, 5, c50, c51); Store(acc, 6, c60, c61); Store(acc, 7, c70, c71);
    }

    /// <summary>
    /// AVX2 without VNNI. vpmaddubsw (u8 × s8 → s16, pairs summed with saturation) would saturate
    /// on 255·127·2, so we shift activations to s = a − 128 ∈ [−128, 127] and compute
    /// maddubs(|s|, sign(w, s)) = Σ s·w: |s| ≤ 128 as u8, sign(w, s) = ±w ∈ [−127, 127] (w ≠ −128, so
    /// the negation never wraps), hence each pair is at most 2·128·127 = 32512 &lt; 32767 — no
    /// saturation is possible. vpmaddwd with ones then widens pairs to int32. Input offset 128.
    /// </summary>
    public static void Avx2Sign(byte* a, nint lda, sbyte* b, int kGroups, int rows, int blocks, nint blockStride, int* acc,
        int* negCorrections, int* columnSums)
    {
        var flip = Vector256.Create((byte)0x80);
        var ones = Vector256.Create((short)1);
        for (int r0 = 0; r0 < rows; r0 += 2)
        {
            bool two = r0 + 1 < rows;
            byte* ar0 = a + r0 * lda, ar1 = two ? ar0 + lda : ar0;
            Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default;
            sbyte* bp = b;
            for (int g = 0; g < kGroups; g++, bp += 64)
            {
                var b0 = Vector256.Load(bp);
                var b1 = Vector256.Load(bp + 32);
                var s = (Vector256.Create(*(int*)(ar0 + g * 4)).AsByte() ^ flip).AsSByte();
                var abs = Avx2.Abs(s);
                c00 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(b0, s)), ones);
                c01 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(b1, s)), ones);
                s = (Vector256.Create(*(int*)(ar1 + g * 4)).AsByte() ^ flip).AsSByte();
                abs = Avx2.Abs(s);
                c10 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(b0, s)), ones);
                c11 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(abs, Avx2.Sign(b1, s)), ones);
            }
            Store(acc, r0, c00, c01);
            if (two) Store(acc, r0 + 1, c10, c11);
        }
    }

    /// <summary>
    /// AVX-512BW: the same sign trick as <see cref="Avx2Sign"/> with 16 columns per 512-bit register.
    /// There is no 512-bit vpsignb, so ±w is chosen with a byte mask (s &lt; 0) between w and −w.
    /// Input offset 128.
    /// </summary>
    public static void Avx512Sign(byte* a, nint lda, sbyte* b, int kGroups, int rows, int blocks, nint blockStride, int* acc,
        int* negCorrections, int* columnSums)
    {
        var flip = Vector512.Create((byte)0x80);
        var ones = Vector512.Create((short)1);
        for (int r0 = 0; r0 < rows; r0 += 2)
        {
            bool two = r0 + 1 < rows;
            byte* ar0 = a + r0 * lda, ar1 = two ? ar0 + lda : ar0;
            Vector512<int> c0 = default, c1 = default;
            sbyte* bp = b;
            for (int g = 0; g < kGroups; g++, bp += 64)
            {
                var w = Vector512.Load(bp);
                var negW = -w;
                var s = (Vector512.Create(*(int*)(ar0 + g * 4)).AsByte() ^ flip).AsSByte();
                var sw = Vector512.ConditionalSelect(Vector512.LessThan(s, Vector512<sbyte>.Zero), negW, w);
                c0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Vector512.Abs(s).AsByte(), sw), ones);
                s = (Vector512.Create(*(int*)(ar1 + g * 4)).AsByte() ^ flip).AsSByte();
                sw = Vector512.ConditionalSelect(Vector512.LessThan(s, Vector512<sbyte>.Zero), negW, w);
                c1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Vector512.Abs(s).AsByte(), sw), ones);
            }
            c0.Store(acc + r0 * 16);
            if (two) c1.Store(acc + (r0 + 1) * 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(int* acc, int row, Vector256<int> lo, Vector256<int> hi)
    {
        lo.Store(acc + row * 16);
        hi.Store(acc + row * 16 + 8);
    }
}
