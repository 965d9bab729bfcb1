using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

/// <summary>Every available int8 kernel against <see cref="Int8GemmReference"/>, bit for bit.</summary>
public class Int8GemmTests
{
    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var k in Int8KernelRegistry.All) data.Add(k.Name);
        return data;
    }

    static (float[] X, sbyte[] W, float[] Scales, float[] Bias) Problem(int m, int n, int k, int seed)
    {
        var rng = new Random(seed);
        var x = new float[m * k];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 6 - 2.5);
        var w = new sbyte[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
        var scales = new float[n];
        var bias = new float[n];
        for (int j = 0; j < n; j++) { scales[j] = (float)(rng.NextDouble() * 0.02 + 1e-3); bias[j] = (float)rng.NextDouble() - 0.5f; }
        return (x, w, scales, bias);
    }

    static void AssertSame(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void KernelMatchesReferenceOnRaggedShapes(string kernel)
    {
        if (!Int8KernelRegistry.All.First(k => k.Name == kernel).IsSupported) return; // not runnable on this CPU
        using var gemm = new Int8Gemm(new Int8GemmOptions(kernel));
        int seed = 0;
        var shapes = from m in new[] { 1, 3, 17 } from n in new[] { 1, 7, 33, 384 } from k in new[] { 1, 5, 64, 385 } select (m, n, k);
        shapes = shapes.Append((13, 33, 385)); // 8-row tile + a 4-row tail + 1 row
        shapes = shapes.Append((9, 80, 68));   // 5 blocks: a 3-block and a 2-block group (avx512-vnni), 8 + 1 rows
        shapes = shapes.Append((50, 80, 128)); // K = 2·64: amx-int8 runs it (32 + 18 rows: two and two row tiles, 2 + 2 + 1 blocks)
        shapes = shapes.Append((17, 48, 64));  // one 64-deep step, 16 + 1 rows
        foreach (var scheme in new[] { ActivationQuantization.AsymmetricU8, ActivationQuantization.SymmetricS8 })
            foreach (var (m, n, k) in shapes)
                    {
                        if (kernel == "scalar" && n * k * m > 200_000) continue; // keep the test fast
                        var (x, w, scales, bias) = Problem(m, n, k, seed++);
                        var q = new QuantizedActivations(m, k, scheme);
                        ActivationQuantizer.Quantize(x, m, q);
                        var act = (m + n) % 2 == 0 ? GemmActivation.Gelu : GemmActivation.None;
                        var expected = new float[m * n];
                        Int8GemmReference.Multiply(q, w, scales, bias, expected, act);
                        var actual = new float[m * n];
                        gemm.Multiply(q, new PackedInt8Weights(w, scales, n, k), bias, actual, act);
                        AssertSame(expected, actual, $"{kernel} {scheme} M={m} N={n} K={k}");
                    }
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void ExtremeValuesDoNotSaturate(string kernel)
    {
        if (!Int8KernelRegistry.All.First(k => k.Name == kernel).IsSupported) return;
        // Activation bytes 255 and 0 (zero point 0 / 128) against weights ±127: every vpmaddubsw
        // pair would be 2·255·127 = 64770 without our sign trick. Exact sums are hand-checkable:
        // row of 255s (zp 0) · column of 127s over K=64 = 255·127·64 = 2 072 640.
        const int m = 5, n = 16, k = 64;
        var q = new QuantizedActivations(m, k, ActivationQuantization.AsymmetricU8);
        var x = new float[m * k];
        for (int i = 0; i < k; i++) { x[i] = 255f; x[k + i] = 0f; x[2 * k + i] = i % 2 == 0 ? 255f : 0f; x[3 * k + i] = -1f; x[4 * k + i] = 1f; }
        ActivationQuantizer.Quantize(x, m, q);
        Assert.Equal(255, q.Data[0]);
        var w = new sbyte[n * k];
        for (int j = 0; j < n; j++)
            for (int i = 0; i < k; i++) w[j * k + i] = (sbyte)(j % 3 == 0 ? 127 : j % 3 == 1 ? -127 : (i % 2 == 0 ? 127 : -127));
        var ones = Enumerable.Repeat(1f, n).ToArray();
        var expected = new float[m * n];
        Int8GemmReference.Multiply(q, w, ones, [], expected);
        var actual = new float[m * n];
        using var gemm = new Int8Gemm(new Int8GemmOptions(kernel));
        gemm.Multiply(q, new PackedInt8Weights(w, ones, n, k), [], actual);
        AssertSame(expected, actual, kernel);
        // Row 0: 255·127·64 scaled by the row scale (255/255 = 1).
        Assert.Equal(255f * 127 * 64 * q.Scales[0], actual[0]);
        Assert.Equal(-255f * 127 * 64 * q.Scales[0], actual[1]);
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void MultiplyQuantize_equals_multiply_then_quantize(string kernel)
    {
        if (!Int8KernelRegistry.All.First(k => k.Name == kernel).IsSupported) return;
        using var pool = new KernelThreadPool(2);
        var gemm = new Int8Gemm(kernel, pool);
        foreach (var scheme in new[] { ActivationQuantization.AsymmetricU8, ActivationQuantization.SymmetricS8 })
            foreach (var (m, n, k) in new[] { (1, 7, 5), (17, 80, 64), (37, 100, 33) })
            {
                var (x, w, scales, bias) = Problem(m, n, k, m + n + k);
                var q = new QuantizedActivations(m, k, scheme);
                ActivationQuantizer.Quantize(x, m, q);
                var packed = new PackedInt8Weights(w, scales, n, k);
                var y = new float[m * n];
                gemm.Multiply(q, packed, bias, y, GemmActivation.Gelu);
                var expected = new QuantizedActivations(m, n, scheme);
                ActivationQuantizer.QuantizeScalar(y, m, expected);
                var actual = new QuantizedActivations(0, n, scheme);
                gemm.MultiplyQuantize(q, packed, bias, actual, GemmActivation.Gelu);
                Assert.Equal(expected.Data.ToArray(), actual.Data.ToArray());
                Assert.Equal(expected.Scales.ToArray(), actual.Scales.ToArray());
                Assert.Equal(expected.ZeroPoints.ToArray(), actual.ZeroPoints.ToArray());
            }
    }

    [Fact]
    public void OneAndTwoThreadsGiveIdenticalResults()
    {
        foreach (var (m, n, k) in new[] { (17, 384, 385), (64, 33, 64), (3, 7, 5), (40, 7, 64) }) // the last splits by rows
        {
            var (x, w, scales, bias) = Problem(m, n, k, 42);
            var q = new QuantizedActivations(m, k, ActivationQuantization.AsymmetricU8);
            ActivationQuantizer.Quantize(x, m, q);
            var packed = new PackedInt8Weights(w, scales, n, k);
            var one = new float[m * n];
            var two = new float[m * n];
            using (var g1 = new Int8Gemm(new Int8GemmOptions(Threads: 1))) g1.Multiply(q, packed, bias, one, GemmActivation.Gelu);
            using (var g2 = new Int8Gemm(new Int8GemmOptions(Threads: 2))) g2.Multiply(q, packed, bias, two, GemmActivation.Gelu);
            AssertSame(one, two, $"M={m} N={n} K={k}");
        }
    }

    [Fact]
    public void SteadyStateCallsDoNotAllocate()
    {
        var (x, w, scales, bias) = Problem(32, 96, 128, 7);
        var q = new QuantizedActivations(32, 128, ActivationQuantization.AsymmetricU8);
        var packed = new PackedInt8Weights(w, scales, 96, 128);
        var output = new float[32 * 96];
        using var gemm = new Int8Gemm();
        ActivationQuantizer.Quantize(x, 32, q);
        gemm.Multiply(q, packed, bias, output, GemmActivation.Gelu);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ActivationQuantizer.Quantize(x, 32, q);
        gemm.Multiply(q, packed, bias, output, GemmActivation.Gelu);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void BadInputsNameTheValues()
    {
        var e = Assert.Throws<DistillSharpException>(() => new PackedInt8Weights(new sbyte[] { 1, -128 }, [1f], 1, 2));
        Assert.Contains("-128", e.Message);
        e = Assert.Throws<DistillSharpException>(() => Int8KernelRegistry.Get("sse9"));
        Assert.Contains("scalar", e.Message);
        using var gemm = new Int8Gemm();
        var q = new QuantizedActivations(1, 8, ActivationQuantization.AsymmetricU8);
        q.SetRows(1);
        e = Assert.Throws<DistillSharpException>(() => gemm.Multiply(q, new PackedInt8Weights(new sbyte[4], [1f], 1, 4), [], new float[1]));
        Assert.Contains("K=8", e.Message);
    }

    [Fact]
    public void RegistryListsEveryKernelAndPicksASupportedOne()
    {
        Assert.Equal(["amx-int8", "avx512-vnni", "avx-vnni", "avx512bw", "avx2", "arm64-dot", "scalar"], Int8KernelRegistry.All.Select(k => k.Name));
        Assert.True(Int8KernelRegistry.Best.IsSupported);
        Assert.Contains(Int8KernelRegistry.Available, k => k.Name == "scalar");
        Assert.Same(Int8KernelRegistry.Available[0], Int8KernelRegistry.Resolve("auto"));
        Assert.Same(Int8KernelRegistry.Available[0], Int8KernelRegistry.Resolve(null));
        Assert.Equal("scalar", Int8KernelRegistry.Resolve(" scalar ").Name);
        var unsupported = Int8KernelRegistry.All.FirstOrDefault(k => !k.IsSupported);
        if (unsupported is not null)
            Assert.Contains("not supported", Assert.Throws<DistillSharpException>(() => Int8KernelRegistry.Resolve(unsupported.Name)).Message);
    }
}
