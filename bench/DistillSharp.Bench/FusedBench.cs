namespace DistillSharp.Bench;

/// <summary>Fused vs unfused fp32 kernels (placeholder until the kernels exist).</summary>
static class FusedBench
{
    public static object Run(int threads) => new { };
}
