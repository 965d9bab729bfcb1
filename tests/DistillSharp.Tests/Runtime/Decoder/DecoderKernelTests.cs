using System.Runtime.Intrinsics;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime.Decoder;

/// <summary>
/// The decoder's row and attention kernels against their scalar twins (built with <c>simd: false</c>):
/// bit for bit, on odd and 8-aligned widths; and the twins against the formulas in double precision.
/// </summary>
public class DecoderKernelTests
{
    static readonly int[] Widths = [1, 7, 8, 33, 64, 384];

    static float[] Random(int n, int seed, double spread = 4, double offset = 0)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() - 0.5) * spread + offset);
        return x;
    }

    static void AssertBitEqual(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: [{i}] scalar {expected[i]:R}, SIMD {actual[i]:R}");
    }

    [Fact]
    public void Lane_order_is_what_vector256_sum_does()
    {
        var rng = new Random(3);
        var lanes = new float[8];
        for (int t = 0; t < 2000; t++)
        {
            for (int j = 0; j < 8; j++) lanes[j] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4)));
            var v = Vector256.Create(lanes);
            Assert.Equal(LaneOrder.Sum(lanes), LaneOrder.Sum(v));
            Assert.Equal(LaneOrder.Sum(lanes), Vector256.Sum(v));
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Residual_norm_equals_its_scalar_twin_and_the_formula(bool residual, bool layerNorm)
    {
        using var pool = new KernelThreadPool(2);
        foreach (int cols in Widths)
        {
            const int rows = 11;
            const float eps = 1e-6f;
            var x = Random(rows * cols, cols, 6, offset: 1.5);
            var add = residual ? Random(rows * cols, cols + 1) : null;
            var weight = Random(cols, cols + 2, 2, offset: 1);
            var bias = layerNorm ? Random(cols, cols + 3) : null;
            var (xs, ys) = ((float[])x.Clone(), new float[x.Length]);
            var (xv, yv) = ((float[])x.Clone(), new float[x.Length]);
            new DecoderRowKernels(null, simd: false).ResidualNorm(xs, add, rows, weight, bias, eps, ys);
            new DecoderRowKernels(pool).ResidualNorm(xv, add, rows, weight, bias, eps, yv);
            AssertBitEqual(xs, xv, $"residual sum, cols={cols}");
            AssertBitEqual(ys, yv, $"norm, cols={cols}");
            for (int r = 0; r < rows; r++)
            {
                var h = Enumerable.Range(0, cols).Select(c => (double)x[r * cols + c] + (add?[r * cols + c] ?? 0)).ToArray();
                double mean = layerNorm ? h.Average() : 0;
                double ms = h.Sum(v => (v - mean) * (v - mean)) / cols;
                for (int c = 0; c < cols; c++)
                {
                    double y = (h[c] - mean) / Math.Sqrt(ms + eps) * weight[c] + (bias?[c] ?? 0);
                    Assert.True(Math.Abs(y - ys[r * cols + c]) <= 2e-5 * (1 + Math.Abs(y)), $"cols={cols} [{r},{c}] {ys[r * cols + c]} vs {y}");
                }
            }
        }
    }

    [Theory]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.Relu)]
    public void Gate_equals_its_scalar_twin_and_the_formula(Activation act)
    {
        using var pool = new KernelThreadPool(2);
        foreach (int ffn in Widths)
        {
            const int rows = 9;
            var gu = Random(rows * 2 * ffn, ffn, 16);
            var (scalar, simd) = (new float[rows * ffn], new float[rows * ffn]);
            new DecoderRowKernels(null, simd: false).Gate(gu, rows, ffn, act, scalar);
            new DecoderRowKernels(pool).Gate(gu, rows, ffn, act, simd);
            AssertBitEqual(scalar, simd, $"{act}, ffn={ffn}");
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < ffn; j++)
                {
                    double g = gu[r * 2 * ffn + j], u = gu[r * 2 * ffn + ffn + j];
                    double a = act switch
                    {
                        Activation.Silu => g / (1 + Math.Exp(-g)),
                        Activation.Gelu => 0.5 * g * (1 + Erf(g / Math.Sqrt(2))),
                        Activation.GeluTanh => 0.5 * g * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g))),
                        _ => Math.Max(g, 0),
                    };
                    Assert.True(Math.Abs(a * u - scalar[r * ffn + j]) <= 1e-5 * (1 + Math.Abs(a * u)), $"{act} [{r},{j}] {scalar[r * ffn + j]} vs {a * u}");
                }
        }
    }

    // erf by its Maclaurin series in double (|x| ≤ 4: cancellation costs ~6 of 16 digits; erfc(4) < 2e-8 beyond).
    static double Erf(double x)
    {
        if (Math.Abs(x) > 4) return Math.Sign(x);
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    // Two sequences (3 and 5 new tokens after 2 and 0 cached ones), heads 4 over 2 KV groups.
    const int Heads = 4, KvHeads = 2, Capacity = 8;
    static readonly int[] Seq = [0, 0, 0, 1, 1, 1, 1, 1], Pos = [2, 3, 4, 0, 1, 2, 3, 4];

    [Theory]
    [InlineData(8)]
    [InlineData(22)]
    [InlineData(64)]
    public void Rotary_equals_its_scalar_twin_and_keeps_relative_positions(int headDim)
    {
        using var pool = new KernelThreadPool(2);
        int rows = Seq.Length, half = headDim / 2, width = (Heads + 2 * KvHeads) * headDim;
        var qkv = Random(rows * width, headDim);
        var rotary = new RotaryFrequencies(headDim, 10000, null, 64);
        var (cos, sin) = (new float[rows * half], new float[rows * half]);
        rotary.CosSin(Pos, cos, sin);
        int cache = 2 * KvHeads * Capacity * headDim;
        var (qs, ks, vs) = ((float[])qkv.Clone(), new float[cache], new float[cache]);
        var (qv, kv, vv) = ((float[])qkv.Clone(), new float[cache], new float[cache]);
        new DecoderRowKernels(null, simd: false).Rotary(qs, rows, cos, sin, Seq, Pos, Heads, KvHeads, headDim, ks, vs, Capacity);
        new DecoderRowKernels(pool).Rotary(qv, rows, cos, sin, Seq, Pos, Heads, KvHeads, headDim, kv, vv, Capacity);
        AssertBitEqual(qs, qv, "rotated rows");
        AssertBitEqual(ks, kv, "key cache");
        AssertBitEqual(vs, vv, "value cache");
        // The cache holds row r's K and V at (sequence, group, position).
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < KvHeads; g++)
                for (int i = 0; i < headDim; i++)
                {
                    int at = ((Seq[r] * KvHeads + g) * Capacity + Pos[r]) * headDim + i;
                    Assert.Equal(qs[r * width + (Heads + g) * headDim + i], ks[at]);
                    Assert.Equal(qkv[r * width + (Heads + KvHeads + g) * headDim + i], vs[at]);
                }
        // RoPE's defining property: a rotated q·k depends only on the distance between the positions.
        var q = Random(headDim, 1); var k = Random(headDim, 2);
        double Dot(int pq, int pk) => Rotated(q, pq).Zip(Rotated(k, pk), (a, b) => (double)a * b).Sum();
        float[] Rotated(float[] x, int p)
        {
            var (c, s, y) = (new float[half], new float[half], (float[])x.Clone());
            rotary.CosSin([p], c, s);
            var row = new float[width];
            y.CopyTo(row, 0);
            new DecoderRowKernels(null).Rotary(row, 1, c, s, [0], [0], Heads, KvHeads, headDim, new float[cache], new float[cache], Capacity);
            return row[..headDim];
        }
        Assert.Equal(Dot(5, 2), Dot(40, 37), 3);
        Assert.Equal(Dot(0, 9), Dot(21, 30), 3);
    }

    [Theory]
    [InlineData(8, null)]
    [InlineData(20, null)]
    [InlineData(32, 3)]
    public void Attention_equals_its_scalar_twin_and_a_double_softmax(int headDim, int? window)
    {
        using var pool = new KernelThreadPool(2);
        int rows = Seq.Length, qStride = (Heads + 2 * KvHeads) * headDim;
        int[] starts = [0, 3], counts = [3, 5], past = [2, 0];
        var q = Random(rows * qStride, headDim, 3);
        var keys = Random(2 * KvHeads * Capacity * headDim, headDim + 1, 3);
        var values = Random(keys.Length, headDim + 2, 3);
        var (scalar, simd) = (new float[rows * Heads * headDim], new float[rows * Heads * headDim]);
        new DecoderAttentionKernel(null, simd: false).Run(q, qStride, keys, values, Capacity, scalar, new float[2 * Heads * Capacity],
            starts, counts, past, 2, Heads, KvHeads, headDim, window);
        new DecoderAttentionKernel(pool).Run(q, qStride, keys, values, Capacity, simd, new float[2 * Heads * Capacity],
            starts, counts, past, 2, Heads, KvHeads, headDim, window);
        AssertBitEqual(scalar, simd, $"context, d={headDim}");
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < Heads; h++)
            {
                int g = h / (Heads / KvHeads), lo = window is int w ? Math.Max(0, Pos[r] - w + 1) : 0;
                double Key(int p, int i) => keys[((Seq[r] * KvHeads + g) * Capacity + p) * headDim + i];
                double Value(int p, int i) => values[((Seq[r] * KvHeads + g) * Capacity + p) * headDim + i];
                var logits = Enumerable.Range(lo, Pos[r] - lo + 1)
                    .Select(p => Enumerable.Range(0, headDim).Sum(i => q[r * qStride + h * headDim + i] * Key(p, i)) / Math.Sqrt(headDim)).ToArray();
                double max = logits.Max(), z = logits.Sum(l => Math.Exp(l - max));
                for (int i = 0; i < headDim; i++)
                {
                    double expected = logits.Select((l, j) => Math.Exp(l - max) / z * Value(lo + j, i)).Sum();
                    Assert.True(Math.Abs(expected - scalar[(r * Heads + h) * headDim + i]) <= 1e-5, $"row {r} head {h} [{i}]");
                }
            }
    }
}
