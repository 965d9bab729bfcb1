using System.Text.Json;
using DistillSharp.Bench;
using DistillSharp.Runtime.Kernels;

// Prints one JSON document: int8 GEMM kernels vs libtorch fp32 matmul on the student's shapes, and
// fused vs unfused fp32 kernels.
// Usage: DistillSharp.Bench [--threads N] [--parts wall,cpu,fused,encoder] [--quick]
//   wall  = N threads, wall-clock (interleaved rounds, median);
//   cpu   = 1 thread, thread CPU time (robust when other processes load the machine);
//   fused = fused vs unfused fp32 kernels, 1 thread, thread CPU time;
//   student = a run folder's INT8 student (--run DIR) vs ONNX Runtime INT8 on its student-int8.onnx, call by call (not in the default set);
//   schemes = activation quantization per token / per tensor × our runtime / ORT: task metrics and speed (--run DIR);
//   kernels = attention, LayerNorm, quantization alone, 1 thread, thread CPU time;
//   ortgemm = one quantized Linear: ours vs ORT's DynamicQuantizeMatMul node, 1 thread, thread CPU time (--ghz for MACs/cycle);
//   encoder = whole encoders: our INT8 runtime vs TorchSharp fp32 vs ONNX Runtime fp32/INT8 (not in the default set).
int threads = 2;
string parts = "wall,cpu,fused";
string? runDir = null;
double budget = 10;
double ghz = 2.1;
for (int i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--threads") threads = int.Parse(args[i + 1]);
    if (args[i] == "--parts") parts = args[i + 1];
    if (args[i] == "--run") runDir = args[i + 1];
    if (args[i] == "--ghz") ghz = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
    if (args[i] == "--budget") budget = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
}
bool quick = args.Contains("--quick");

var shapes = new List<(int, int, int)>();
foreach (int m in new[] { 64, 32 * 64 })
    foreach (var (k, n) in new[] { (384, 384), (384, 1536), (1536, 384), (384, 1152) })
        shapes.Add((m, k, n));
if (quick) shapes = shapes.Take(2).ToList();
var kernels = Int8KernelRegistry.Available.Select(k => k.Name).ToList();
string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";

var wall = parts.Contains("wall") ? GemmBench.Run(threads, shapes, kernels) : [];
var cpu = parts.Contains("cpu") ? GemmBench.Run(1, shapes, kernels, threadCpuTime: true) : [];
var fused = parts.Contains("fused") ? FusedBench.Run() : [];
var student = parts.Contains("student")
    ? StudentBench.Run(runDir ?? throw new ArgumentException("--parts student needs --run RUN_DIR"), threads, [1, 32], 64, budget)
        .Concat(StudentBench.Run(runDir, 1, [1, 32], 64, budget, threadCpuTime: true)).ToList() : [];
var studentProfile = parts.Contains("profile")
    ? StudentProfile.Run(runDir ?? throw new ArgumentException("--parts profile needs --run RUN_DIR")) : [];
var schemes = parts.Contains("schemes")
    ? SchemesBench.Run(runDir ?? throw new ArgumentException("--parts schemes needs --run RUN_DIR"), threads, budget, Console.Error) : [];
var kernelRows = parts.Contains("kernels") ? KernelBench.Run([1, 32]) : [];
var gemmVsOrt = parts.Contains("ortgemm") ? GemmVsOrtBench.Run(shapes, ghz) : [];
var (encoder, profiles) = parts.Contains("encoder") ? EncoderBench.Run(threads, quick) : ([], []);
var result = new
{
    date_utc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
    load_average_at_start = load,
    load_average_at_end = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
    threads,
    kernels_available = kernels,
    default_kernel = Int8KernelRegistry.Best.Name,
    int8_gemm_wall_clock = wall,
    int8_gemm_one_thread_cpu_time = cpu,
    fused_fp32_one_thread_cpu_time = fused,
    encoder_latency_ms = encoder,
    student_vs_onnxruntime = student,
    student_profile_one_thread = studentProfile,
    activation_schemes = schemes,
    encoder_kernels_one_thread = kernelRows,
    int8_linear_vs_onnxruntime_one_thread_cpu_time = gemmVsOrt,
    int8_encoder_op_profile = profiles,
};
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions
{
    WriteIndented = true,
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
}));
