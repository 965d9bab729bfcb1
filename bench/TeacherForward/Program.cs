// Teacher forward pass, TorchSharp vs ONNX Runtime on the same ONNX file, side by side in one run.
// Usage: dotnet run -c Release --project bench/TeacherForward [-- --teacher NAME --runs N --threads N]
// Prints one JSON object: per runtime and batch, latency p50/p90/p99 (ms) and sequences/s, plus the ratio.
using System.Text.Json;
using DistillSharp.Benchmarks;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Diagnostics;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

string teacherName = ArgValue("--teacher") ?? "all-MiniLM-L6-v2";
int runs = int.Parse(ArgValue("--runs") ?? "50");
int threads = int.Parse(ArgValue("--threads") ?? Environment.ProcessorCount.ToString());
const int SeqLen = 64;
TorchNative.EnsureLoadable();
set_num_threads(threads);

var teacher = BuiltinTeachers.Get(teacherName);
var (onnx, _) = teacher.ReadResources();
using var encoder = ModelLoader.Load("builtin:" + teacherName, SeqLen);
using var ort = new OnnxRuntimeEncoder(onnx, threads: threads);

// Every sequence is exactly 64 tokens (no padding), so both runtimes do identical work.
var results = new List<object>();
foreach (int batch in new[] { 1, 32 })
{
    TokenBatch tokens = EncoderSpeed.FullBatch(encoder.Tokenizer, batch, SeqLen);
    // The two runtimes alternate call by call, so that load changes on a shared machine hit both alike.
    var (torch, onnxRt) = LatencyBenchmark.RunInterleaved("torchsharp", () =>
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        encoder.Forward(tokens);
    }, "onnxruntime", () => ort.RunDiscard(tokens), batch, SeqLen, new BenchOptions(Warmup: 3, Runs: batch == 1 ? runs * 4 : runs));
    results.Add(new
    {
        batch, seq = SeqLen,
        torchsharp = Summary(torch), onnxruntime = Summary(onnxRt),
        torch_over_ort_p50 = Math.Round(torch.P50Ms / onnxRt.P50Ms, 3),
    });
}
Console.WriteLine(JsonSerializer.Serialize(new
{
    benchmark = "teacher-forward", teacher = teacherName, threads,
    load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
    date = DateTime.UtcNow.ToString("yyyy-MM-dd"), results,
}, new JsonSerializerOptions { WriteIndented = true }));

static object Summary(BenchResult r) => new
{
    p50_ms = Math.Round(r.P50Ms, 2), p90_ms = Math.Round(r.P90Ms, 2), p99_ms = Math.Round(r.P99Ms, 2),
    sequences_per_s = Math.Round(r.SequencesPerSecond, 1), runs = r.SamplesMs.Length,
};

string? ArgValue(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
