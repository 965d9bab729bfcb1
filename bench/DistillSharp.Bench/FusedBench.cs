using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Bench;

/// <summary>Fused vs unfused fp32 kernels on a 32×64-token batch (rows = 2048), one thread, thread CPU time.</summary>
static class FusedBench
{
    public sealed record Row(string Kernel, int Rows, int Cols, double FusedUs, double UnfusedUs, double Speedup);

    public static List<Row> Run()
    {
        const int rows = 32 * 64;
        var result = new List<Row>();
        foreach (int cols in new[] { 384, 1536 })
        {
            var rng = new Random(cols);
            float[] Fill(int n) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 4 - 2); return v; }
            var x = Fill(rows * cols); var r = Fill(rows * cols); var gamma = Fill(cols); var beta = Fill(cols);
            var y = new float[rows * cols];
            var lnGelu = Timing.Interleaved(new List<(string, Action)>
            {
                ("fused", () => LayerNormKernels.ResidualLayerNormGelu(x, r, gamma, beta, 1e-12f, y)),
                ("unfused", () =>
                {
                    ElementwiseKernels.ResidualAdd(x, r, y);
                    LayerNormKernels.LayerNorm(y, gamma, beta, 1e-12f, y);
                    ElementwiseKernels.Gelu(y);
                }),
            }, budgetSeconds: 0.8, threadCpuTime: true);
            result.Add(Make("residual+layernorm+gelu", rows, cols, lnGelu));
            var ln = Timing.Interleaved(new List<(string, Action)>
            {
                ("fused", () => LayerNormKernels.ResidualLayerNorm(x, r, gamma, beta, 1e-12f, y)),
                ("unfused", () =>
                {
                    ElementwiseKernels.ResidualAdd(x, r, y);
                    LayerNormKernels.LayerNorm(y, gamma, beta, 1e-12f, y);
                }),
            }, budgetSeconds: 0.8, threadCpuTime: true);
            result.Add(Make("residual+layernorm", rows, cols, ln));
            var biasGelu = Timing.Interleaved(new List<(string, Action)>
            {
                ("fused", () => { x.CopyTo(y, 0); ElementwiseKernels.BiasGelu(y, beta); }),
                ("unfused", () => { x.CopyTo(y, 0); ElementwiseKernels.AddBias(y, beta); ElementwiseKernels.Gelu(y); }),
            }, budgetSeconds: 0.8, threadCpuTime: true);
            result.Add(Make("bias+gelu (incl. copy)", rows, cols, biasGelu));
        }
        foreach (var row in result)
            Console.Error.WriteLine($"{row.Kernel} {row.Rows}x{row.Cols}: fused {row.FusedUs} us, unfused {row.UnfusedUs} us");
        return result;
    }

    static Row Make(string name, int rows, int cols, Dictionary<string, Timing.Stat> s) =>
        new(name, rows, cols, Math.Round(s["fused"].MedianSeconds * 1e6, 1), Math.Round(s["unfused"].MedianSeconds * 1e6, 1),
            Math.Round(s["unfused"].MedianSeconds / s["fused"].MedianSeconds, 2));
}
