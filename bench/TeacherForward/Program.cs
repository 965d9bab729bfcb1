// Teacher forward pass, TorchSharp vs ONNX Runtime on the same ONNX file, side by side in one run.
// Usage: dotnet run -c Release --project bench/TeacherForward [-- --teacher NAME --runs N]
// Prints one JSON object: per runtime and batch, latency p50/p90/p99 (ms) and sequences/s, plus the ratio.
using System.Text.Json;
using DistillSharp.Benchmarks;
using DistillSharp.Diagnostics;
using DistillSharp.Models;
using DistillSharp.Models.Tokenization;
using static TorchSharp.torch;

string teacherName = ArgValue("--teacher") ?? "all-MiniLM-L6-v2";
int runs = int.Parse(ArgValue("--runs") ?? "50");
const int SeqLen = 64;
TorchNative.EnsureLoadable();
set_num_threads(Environment.ProcessorCount);

var teacher = BuiltinTeachers.Get(teacherName);
var (onnx, _) = teacher.ReadResources();
using var encoder = ModelLoader.Load("builtin:" + teacherName, SeqLen);
using var ort = new OnnxRuntimeEncoder(onnx, threads: Environment.ProcessorCount);

// Every sequence is exactly 64 tokens (no padding), so both runtimes do identical work.
const string Text = "Knowledge distillation trains a small student network to reproduce the behaviour of a large " +
    "teacher network, matching its output distribution, its hidden states and its attention maps, so that the " +
    "student keeps most of the teacher's accuracy at a fraction of its size and latency on ordinary hardware.";
var results = new List<object>();
foreach (int batch in new[] { 1, 32 })
{
    TokenBatch tokens = encoder.Tokenizer.EncodeBatch(Enumerable.Repeat(Text, batch).ToList());
    if (tokens.Length != SeqLen) throw new InvalidOperationException($"expected {SeqLen} tokens, got {tokens.Length}");
    var options = new BenchOptions(Warmup: 3, Runs: batch == 1 ? runs * 4 : runs, MaxSeconds: 60);
    var torch = LatencyBenchmark.Run("torchsharp", batch, SeqLen, () =>
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        encoder.Forward(tokens);
    }, options);
    var onnxRt = LatencyBenchmark.Run("onnxruntime", batch, SeqLen, () => ort.RunDiscard(tokens), options);
    results.Add(new
    {
        batch, seq = SeqLen,
        torchsharp = Summary(torch), onnxruntime = Summary(onnxRt),
        torch_over_ort_p50 = Math.Round(torch.P50Ms / onnxRt.P50Ms, 3),
    });
}
Console.WriteLine(JsonSerializer.Serialize(new
{
    benchmark = "teacher-forward", teacher = teacherName, threads = Environment.ProcessorCount,
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
