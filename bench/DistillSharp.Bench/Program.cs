using System.Text.Json;
using DistillSharp.Bench;
using DistillSharp.Runtime.Kernels;

// Prints one JSON document: int8 GEMM kernels vs libtorch fp32 on the student's shapes, and fused vs
// unfused fp32 kernels. Usage: DistillSharp.Bench [--threads N] [--quick] [--no-cpu-time] [--only-cpu-time]
int threads = 2;
bool quick = args.Contains("--quick");
int ti = Array.IndexOf(args, "--threads");
if (ti >= 0 && ti + 1 < args.Length) threads = int.Parse(args[ti + 1]);

var shapes = new List<(int, int, int)>();
foreach (int m in new[] { 64, 32 * 64 })
    foreach (var (k, n) in new[] { (384, 384), (384, 1536), (1536, 384), (384, 1152) })
        shapes.Add((m, k, n));
if (quick) shapes = shapes.Take(2).ToList();
var kernels = Int8KernelRegistry.Available.Select(k => k.Name).ToList();

var gemm = args.Contains("--only-cpu-time") ? [] : GemmBench.Run(threads, shapes, kernels);
// One thread timed by thread CPU time: per-core efficiency, robust to other load on the machine.
var gemmOneThread = args.Contains("--no-cpu-time") ? [] : GemmBench.Run(1, shapes, kernels, threadCpuTime: true);
var fused = quick ? [] : FusedBench.Run();
var result = new
{
    date_utc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
    load_average_at_start = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
    threads,
    cpu_kernels_available = kernels,
    default_kernel = Int8KernelRegistry.Best.Name,
    int8_gemm = gemm,
    int8_gemm_one_thread_cpu_time = gemmOneThread,
    fused_fp32_single_thread = fused,
};
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
