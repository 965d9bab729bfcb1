// The frozen teacher's forward pass in every engine, side by side in one run (alternating call by call):
// TorchSharp's full ModelOutput (what distillation used to run), the ONNX Runtime teacher engine
// (OnnxTeacherForward: fp32 export with every hidden state, attention map and Q/K/V, written into
// TorchSharp tensors), and ONNX Runtime's plain forward of the teacher's own ONNX file (last_hidden_state
// only, pre-bound outputs) as the yardstick. Also the largest difference of every distillation output
// between the ONNX Runtime engine and TorchSharp on a real padded batch.
// Usage: dotnet run -c Release --project bench/TeacherForward [-- --teacher NAME --runs N --threads N [--cpu-time]]
//   --eval [--eval-limit N]: the evaluation engines side by side instead (EvalEnginesBench.cs).
//   --cpu-time (with --threads 1): time each call by the thread's CPU clock instead of the wall clock.
using System.Text.Json;
using DistillSharp.Benchmarks;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Diagnostics;
using DistillSharp.Export.Encoder;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

string teacherName = ArgValue("--teacher") ?? "all-MiniLM-L6-v2";
int runs = int.Parse(ArgValue("--runs") ?? "40");
int threads = int.Parse(ArgValue("--threads") ?? Environment.ProcessorCount.ToString());
const int SeqLen = 64;
TorchNative.EnsureLoadable();
set_num_threads(threads);
string load0 = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";

var teacher = BuiltinTeachers.Get(teacherName);
var (onnx, _) = teacher.ReadResources();
using var encoder = ModelLoader.Load("builtin:" + teacherName, SeqLen);
encoder.Model.eval();
int layers = encoder.Model.Config.NumHiddenLayers;
var all = TeacherOutputs.All(layers, withQkv: true);
// What configs/default.yaml's first stage reads: hidden_mse's uniform map (3 → 6: teacher hidden states
// 2, 4, 6), minilm_attention on the last layer, the pooled embedding (from hidden state 6).
var defaultNeeds = new TeacherOutputs(new HashSet<int> { 2, 4, 6 }, new HashSet<int> { layers - 1 }, new HashSet<int>(), new HashSet<int>(), new HashSet<int>());
using var torchEngine = TeacherEngines.Create("torchsharp", encoder, threads, all);
using var ortEngine = TeacherEngines.Create("onnxruntime", encoder, threads, all);
using var ortDefault = TeacherEngines.Create("onnxruntime", encoder, threads, defaultNeeds);
using var plain = new PlainOrt(onnx, threads);
using var plainOurs = new PlainOrt(Google.Protobuf.MessageExtensions.ToByteArray(OnnxExporter.BuildFp32(encoder.Model,
    new OnnxExportOptions(Pooling: encoder.Pooling, Normalize: encoder.Normalize))), threads);
if (args.Contains("--eval"))
{
    // Evaluation engines instead (EvalEnginesBench); --eval-limit N embeds only the first N texts (metrics of the tasks they cover).
    int? limit = ArgValue("--eval-limit") is string l ? int.Parse(l) : null;
    var evalResult = EvalEnginesBench.Run(encoder, threads, limit);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        benchmark = "eval-engines", teacher = teacherName, threads, date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"), load_average_start = load0,
        load_average_end = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "", result = evalResult,
    }, new JsonSerializerOptions { WriteIndented = true }));
    return;
}
bool cpuTime = args.Contains("--cpu-time") && threads == 1; // one thread: every engine computes on the calling thread

// Accuracy of the ONNX Runtime engine on a padded batch of real sentences, every output a loss can read.
var sentences = new[]
{
    "Knowledge distillation trains a small student to match a large teacher.", "ok", "Where is the nearest pharmacy?",
    "The quick brown fox jumps over the lazy dog while the farmer watches from the porch.",
};
var accuracy = new Dictionary<string, double>();
using (var scope = NewDisposeScope())
{
    var batch = encoder.Tokenizer.EncodeBatch(sentences);
    ModelOutput e = torchEngine.Forward(batch), a = ortEngine.Forward(batch);
    double Max(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y) => x.Select((t, i) => (double)(t - y[i]).abs().max().item<float>()).Max();
    accuracy["hidden_states"] = Max(e.HiddenStates, a.HiddenStates);
    accuracy["attentions"] = Max(e.Attentions, a.Attentions);
    accuracy["queries"] = Max(e.Queries!, a.Queries!);
    accuracy["keys"] = Max(e.Keys!, a.Keys!);
    accuracy["values"] = Max(e.Values!, a.Values!);
    accuracy["pooled"] = (e.Pooled! - a.Pooled!).abs().max().item<float>();
}
Console.Error.WriteLine("max |onnxruntime engine − torchsharp|: " + string.Join(", ", accuracy.Select(kv => $"{kv.Key} {kv.Value:E2}")));

var results = new List<object>();
foreach (int batchSize in new[] { 1, 32 })
{
    TokenBatch tokens = EncoderSpeed.FullBatch(encoder.Tokenizer, batchSize, SeqLen);
    var variants = new (string Name, Action Run)[]
    {
        ("torchsharp_teacher", () => { using var s = NewDisposeScope(); torchEngine.Forward(tokens); }),
        ("onnxruntime_teacher_all_outputs", () => { using var s = NewDisposeScope(); ortEngine.Forward(tokens); }),
        ("onnxruntime_teacher_default_needs", () => { using var s = NewDisposeScope(); ortDefault.Forward(tokens); }),
        ("onnxruntime_plain", () => plain.Run(tokens)),
        ("onnxruntime_plain_our_export", () => plainOurs.Run(tokens)),
    };
    var samples = variants.ToDictionary(v => v.Name, _ => new List<double>());
    for (int w = 0; w < 3; w++) foreach (var v in variants) v.Run();
    int n = batchSize == 1 ? runs * 5 : runs;
    for (int i = 0; i < n; i++)
        foreach (var v in variants)
        {
            if (cpuTime)
            {
                double c0 = ThreadCpu.Seconds();
                v.Run();
                samples[v.Name].Add((ThreadCpu.Seconds() - c0) * 1e3);
                continue;
            }
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            v.Run();
            samples[v.Name].Add(System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
    var stats = samples.ToDictionary(kv => kv.Key, kv => Summary(BenchResult.FromSamples(kv.Key, batchSize, SeqLen, kv.Value.ToArray())));
    double P50(string name) => BenchResult.FromSamples(name, batchSize, SeqLen, samples[name].ToArray()).P50Ms;
    results.Add(new
    {
        batch = batchSize, seq = SeqLen, stats,
        onnxruntime_teacher_all_over_plain_p50 = Math.Round(P50("onnxruntime_teacher_all_outputs") / P50("onnxruntime_plain"), 3),
        onnxruntime_teacher_default_over_plain_p50 = Math.Round(P50("onnxruntime_teacher_default_needs") / P50("onnxruntime_plain"), 3),
        torchsharp_teacher_over_plain_p50 = Math.Round(P50("torchsharp_teacher") / P50("onnxruntime_plain"), 3),
    });
    Console.Error.WriteLine($"b{batchSize}: " + string.Join(", ", variants.Select(v => $"{v.Name} p50 {P50(v.Name):F2} ms")));
}
Console.WriteLine(JsonSerializer.Serialize(new
{
    benchmark = "teacher-forward", teacher = teacherName, threads, clock = cpuTime ? "thread-cpu-time" : "wall-clock", date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
    load_average_start = load0, load_average_end = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
    max_abs_diff_onnxruntime_vs_torchsharp = accuracy, results,
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

// CPU seconds of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID): immune to time spent descheduled.
static partial class ThreadCpu
{
    public static double Seconds()
    {
        clock_gettime(3, out var ts);
        return ts.Sec + ts.Nsec * 1e-9;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct TimeSpec { public long Sec; public long Nsec; }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int clock_gettime(int clock, out TimeSpec ts);
}

// ONNX Runtime on a graph's last_hidden_state with inputs and output bound once per shape: its lowest call overhead.
sealed class PlainOrt(byte[] onnx, int threads) : IDisposable
{
    readonly InferenceSession _session = new(onnx, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads });
    readonly RunOptions _run = new();
    readonly Dictionary<(int, int), (string[] Names, OrtValue[] Inputs, OrtValue[] Outputs)> _bound = [];

    public void Run(TokenBatch batch)
    {
        int b = batch.Count, t = batch.Length;
        if (!_bound.TryGetValue((b, t), out var io))
        {
            var names = _session.InputMetadata.Keys.ToArray();
            var inputs = names.Select(n => OrtValue.CreateTensorValueFromMemory(Flat(n switch
            {
                "input_ids" => batch.InputIds, "attention_mask" => batch.AttentionMask, _ => batch.TokenTypeIds,
            }), [b, t])).ToArray();
            int h = (int)_session.OutputMetadata["last_hidden_state"].Dimensions[^1];
            _bound[(b, t)] = io = (names, inputs, [OrtValue.CreateTensorValueFromMemory(new float[b * t * h], [b, t, h])]);
        }
        _session.Run(_run, io.Names, io.Inputs, ["last_hidden_state"], io.Outputs);
    }

    static long[] Flat(long[,] a)
    {
        var f = new long[a.Length];
        Buffer.BlockCopy(a, 0, f, 0, a.Length * sizeof(long));
        return f;
    }

    public void Dispose()
    {
        foreach (var (_, i, o) in _bound.Values) foreach (var v in i.Concat(o)) v.Dispose();
        _run.Dispose();
        _session.Dispose();
    }
}
