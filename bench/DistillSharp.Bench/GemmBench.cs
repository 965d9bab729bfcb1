using DistillSharp.Runtime.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace DistillSharp.Bench;

/// <summary>Int8 GEMM throughput per kernel vs libtorch fp32 matmul on the student's shapes.</summary>
static class GemmBench
{
    /// <summary>
    /// One shape: GOP/s from median times (from minimum times in <c>PeakGops</c>); ratios are the
    /// best int8 kernel over torch fp32, also with dynamic activation quantization included.
    /// </summary>
    public sealed record Row(int M, int K, int N, Dictionary<string, double> Gops, Dictionary<string, double> PeakGops,
        string BestKernel, double BestOverTorch, double QuantizeAndGemmOverTorch, double PeakBestOverTorch);

    public static List<Row> Run(int threads, IReadOnlyList<(int M, int K, int N)> shapes, IReadOnlyList<string> kernels, bool threadCpuTime = false)
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
            var packed = new PackedInt8Weights(w, Enumerable.Repeat(0.01f, n).ToArray(), n, k);
            var bias = new float[n];
            var q = new QuantizedActivations(m, k, ActivationQuantization.AsymmetricU8);
            ActivationQuantizer.Quantize(x, m, q);
            var output = new float[m * n];
            using var a = torch.randn(m, k);
            using var b = torch.randn(k, n);

            var variants = new List<(string, Action)> { ("torch-fp32", () => { using var s = NewDisposeScope(); torch.matmul(a, b); }) };
            foreach (var gemm in gemms)
                if (gemm.Kernel.Name != "scalar" || ops < 5e7) // scalar takes seconds on the large shapes
                    variants.Add((gemm.Kernel.Name, () => gemm.Multiply(q, packed, bias, output)));
            var best = gemms[0];
            variants.Add(("quantize+" + best.Kernel.Name, () =>
            {
                ActivationQuantizer.Quantize(x, m, q);
                best.Multiply(q, packed, bias, output);
            }));
            var stats = Timing.Interleaved(variants, threadCpuTime: threadCpuTime);
            var gops = stats.ToDictionary(p => p.Key, p => Math.Round(ops / p.Value.MedianSeconds / 1e9, 1));
            var peak = stats.ToDictionary(p => p.Key, p => Math.Round(ops / p.Value.MinSeconds / 1e9, 1));
            var bestInt8 = gops.Where(p => p.Key != "torch-fp32" && !p.Key.StartsWith("quantize+")).MaxBy(p => p.Value);
            rows.Add(new Row(m, k, n, gops, peak, bestInt8.Key, Math.Round(bestInt8.Value / gops["torch-fp32"], 2),
                Math.Round(gops["quantize+" + best.Kernel.Name] / gops["torch-fp32"], 2),
                Math.Round(peak[bestInt8.Key] / peak["torch-fp32"], 2)));
            Console.Error.WriteLine($"threads={threads}{(threadCpuTime ? " cpu-time" : "")} M={m} K={k} N={n}: " + string.Join(", ", gops.Select(p => $"{p.Key} {p.Value}")));
        }
        foreach (var g in gemms) g.Dispose();
        return rows;
    }
}
