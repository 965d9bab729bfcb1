using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

/// <summary>The encoder's attention kernel against its scalar twin (bit for bit) and a double-precision softmax attention.</summary>
public class AttentionKernelTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(20)]
    [InlineData(32)]
    [InlineData(37)]
    [InlineData(64)]
    public void Attention_equals_its_scalar_twin_and_a_double_softmax(int d)
    {
        const int heads = 3;
        int[] lengths = [1, 5, 16, 17, 64, 70];
        int[] starts = new int[lengths.Length];
        for (int i = 1; i < lengths.Length; i++) starts[i] = starts[i - 1] + lengths[i - 1];
        int tokens = starts[^1] + lengths[^1], h = heads * d, stride = 3 * h;
        var rng = new Random(d);
        var qkv = new float[tokens * stride];
        for (int i = 0; i < qkv.Length; i++) qkv[i] = (float)((rng.NextDouble() - 0.5) * 3);
        var (scalar, simd) = (new float[tokens * h], new float[tokens * h]);
        using var pool = new KernelThreadPool(2);
        new AttentionKernel(null, simd: false).Run(qkv, 0, h, 2 * h, stride, scalar, h, starts, lengths, lengths.Length, heads, d);
        new AttentionKernel(pool).Run(qkv, 0, h, 2 * h, stride, simd, h, starts, lengths, lengths.Length, heads, d);
        for (int i = 0; i < scalar.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(simd[i]), $"d={d} [{i}] scalar {scalar[i]:R}, SIMD {simd[i]:R}");
        for (int s = 0; s < lengths.Length; s++)
            for (int head = 0; head < heads; head++)
                for (int i = 0; i < lengths[s]; i++)
                {
                    double Q(int t, int c) => qkv[(starts[s] + t) * stride + head * d + c];
                    double K(int t, int c) => qkv[(starts[s] + t) * stride + h + head * d + c];
                    double V(int t, int c) => qkv[(starts[s] + t) * stride + 2 * h + head * d + c];
                    var logits = Enumerable.Range(0, lengths[s]).Select(j => Enumerable.Range(0, d).Sum(c => Q(i, c) * K(j, c)) / Math.Sqrt(d)).ToArray();
                    double max = logits.Max(), z = logits.Sum(l => Math.Exp(l - max));
                    for (int c = 0; c < d; c++)
                    {
                        double expected = logits.Select((l, j) => Math.Exp(l - max) / z * V(j, c)).Sum();
                        Assert.True(Math.Abs(expected - scalar[(starts[s] + i) * h + head * d + c]) <= 2e-6 * (1 + Math.Abs(expected)), $"d={d} seq {s} head {head} row {i} [{c}]");
                    }
                }
    }
}
