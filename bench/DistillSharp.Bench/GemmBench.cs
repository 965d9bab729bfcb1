using DistillSharp.Runtime.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace DistillSharp.Bench;

/// <summary>Int8 GEMM throughput per kernel vs libtorch fp32 matmul on the student's shapes.</summary>
static class GemmBench
{
    public sealed record Row(int M, int K, int N, double TorchFp32Gflops, Dictionary<string, double> Int8Gops,
        double Int8QuantizeAndGemmGops, string BestKernel, double BestOverTorch);

    public static List<Row> Run(int threads, IReadOnlyList<(int M, int K, int N)> shapes, IReadOnlyList<string> kernels)
    {
        torch.set_num_threads(threads);
        var rows = new List<Row>();
        var gemms = kernels.Select(k => new Int8Gemm(new Int8GemmOptions(k, threads))).ToList();
        foreach (var (m, k, n) in shapes)
        {
            double ops = 2.0 * m * n * k;
            var rng = new Random(m * 31 + k * 7 + n);
            var x = new float[m * k];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 4 - 2);
            var w = new sbyte[n * k];
            for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
            var scales = Enumerable.Repeat(0.01f, n).ToArray();
            var bias = new float[n];
            var packed = new PackedInt8Weights(w, scales, n, k);
            var q = new QuantizedActivations(m, k, ActivationQuantization.AsymmetricU8);
            ActivationQuantizer.Quantize(x, m, q);
            var output = new float[m * n];

            double torchSeconds;
            using (var a = torch.randn(m, k))
            using (var b = torch.randn(k, n))
                torchSeconds = Timing.Median(() => { using var scope = NewDisposeScope(); torch.matmul(a, b); });

            var gops = new Dictionary<string, double>();
            foreach (var gemm in gemms)
            {
                if (gemm.Kernel.Name == "scalar" && ops > 5e7) continue; // minutes per shape; small shapes suffice
                gops[gemm.Kernel.Name] = ops / Timing.Median(() => gemm.Multiply(q, packed, bias, output)) / 1e9;
            }
            var best = gops.MaxBy(p => p.Value);
            var bestGemm = gemms.First(g => g.Kernel.Name == best.Key);
            double endToEnd = ops / Timing.Median(() =>
            {
                ActivationQuantizer.Quantize(x, m, q);
                bestGemm.Multiply(q, packed, bias, output);
            }) / 1e9;
            double torchGflops = ops / torchSeconds / 1e9;
            rows.Add(new Row(m, k, n, Math.Round(torchGflops, 1), gops.ToDictionary(p => p.Key, p => Math.Round(p.Value, 1)),
                Math.Round(endToEnd, 1), best.Key, Math.Round(best.Value / torchGflops, 2)));
            Console.Error.WriteLine($"M={m} K={k} N={n}: torch {torchGflops:F1} GFLOP/s, " +
                string.Join(", ", gops.Select(p => $"{p.Key} {p.Value:F1}")) + $" GOP/s, quant+gemm {endToEnd:F1}");
        }
        foreach (var g in gemms) g.Dispose();
        return rows;
    }
}
