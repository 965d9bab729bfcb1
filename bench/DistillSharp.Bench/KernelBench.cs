using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Bench;

/// <summary>
/// The encoder's non-GEMM kernels alone on the default student's shapes (hidden 384, 12 heads of
/// 32, FFN 1536, 64-token sequences), one thread, fastest of many interleaved calls (thread CPU time):
/// what each costs per forward and what it would cost at a stated rate.
/// </summary>
static class KernelBench
{
    public sealed record Row(string Kernel, int Batch, double FastestUs, double MedianUs, string Work);

    public static List<Row> Run(IReadOnlyList<int> batches)
    {
        var rows = new List<Row>();
        const int h = 384, heads = 12, d = 32, f = 1536, t = 64;
        foreach (int batch in batches)
        {
            int tokens = batch * t;
            var rng = new Random(batch);
            float[] Rand(int n) { var x = new float[n]; for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 4 - 2); return x; }
            var qkv = Rand(tokens * 3 * h);
            var context = new float[tokens * h];
            var starts = Enumerable.Range(0, batch).Select(i => i * t).ToArray();
            var lengths = Enumerable.Repeat(t, batch).ToArray();
            var attention = new AttentionKernel(null);
            var hidden = Rand(tokens * h); var residual = Rand(tokens * h); var normed = new float[tokens * h];
            var gamma = Rand(h); var beta = Rand(h);
            var ffn = Rand(tokens * f);
            var q384 = new QuantizedActivations(tokens, h, ActivationQuantization.SymmetricS8);
            var q1536 = new QuantizedActivations(tokens, f, ActivationQuantization.SymmetricS8);
            var rowsKernels = new RowKernels(null);
            var stats = Timing.Samples(new List<(string, Action)>
            {
                ("attention", () => attention.Run(qkv, 0, h, 2 * h, 3 * h, context, h, starts, lengths, batch, heads, d)),
                ("residual_layernorm", () => rowsKernels.ResidualLayerNorm(hidden, residual, tokens, gamma, beta, 1e-12f, normed, true)),
                ("quantize_384", () => ActivationQuantizer.Quantize(hidden, tokens, q384)),
                ("quantize_1536", () => ActivationQuantizer.Quantize(ffn, tokens, q1536)),
            }, budgetSeconds: 3, warmup: 5, minRounds: 30, threadCpuTime: true);
            foreach (var (name, s) in stats)
            {
                s.Sort();
                string work = name switch
                {
                    "attention" => $"{2.0 * batch * heads * t * t * d / 1e6:F1} M MAC, {batch * heads * t * t / 1e3:F0} k exp",
                    "quantize_1536" => $"{tokens * f / 1e6:F2} M values",
                    _ => $"{tokens * h / 1e6:F2} M values",
                };
                rows.Add(new Row(name, batch, Math.Round(s[0] * 1e6, 1), Math.Round(s[s.Count / 2] * 1e6, 1), work));
                Console.Error.WriteLine($"b{batch} {name}: fastest {s[0] * 1e6:F1} us, median {s[s.Count / 2] * 1e6:F1} us ({work})");
            }
        }
        return rows;
    }
}
