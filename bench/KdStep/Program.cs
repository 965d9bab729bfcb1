// One knowledge-distillation step on exactly the shapes and loss of ../shared/peers/peer_bench.py's
// train_kd section: student 3 × 384 (12 heads, FFN 1536, random init, dropout 0.1 in training),
// teacher 6 × 384 (all-MiniLM-L6-v2's shape; its real weights), vocabulary 30522, batch 32 × 64
// full-length sequences (no padding), loss = MSE(mean-pooled last hidden states) + MSE(last-layer
// attention probabilities) (embedding_mse + attention_mse, no normalisation), AdamW(lr 3e-5,
// betas (0.9, 0.98), eps 1e-8, wd 0.01), every student parameter trained. The step is our real one:
// the Distiller under the Trainer, timed by the Trainer's step_s (teacher forward, student forward,
// losses, backward, AdamW). Three modes, one after the other in one process:
//   online-torchsharp   the frozen teacher in TorchSharp every step
//   online-onnxruntime  the frozen teacher in the ONNX Runtime engine every step (teacher.engine: onnxruntime)
//   warm-cache          the teacher's outputs read from a warm teacher-output cache (filled by an untimed pass)
// Usage: dotnet bench/KdStep/bin/Release/net10.0/KdStep.dll [--threads 2 --warmup 3 --steps 20 --modes a,b,c]
//        ... --profile [--dropout 0.1]   the pieces of the step timed separately (StepProfile)
// Prints one JSON object (progress on stderr).
using System.Text.Json;
using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Diagnostics;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

int threads = int.Parse(ArgValue("--threads") ?? "2");
int warmup = int.Parse(ArgValue("--warmup") ?? "3");
int steps = int.Parse(ArgValue("--steps") ?? "20");
string[] modes = (ArgValue("--modes") ?? "online-torchsharp,online-onnxruntime,warm-cache").Split(',');
const int Batch = 32, Seq = 64;
TorchNative.EnsureLoadable();
set_num_threads(threads);
string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";
var loads = new List<string> { Load() };

using var loaded = ModelLoader.Load("builtin:all-MiniLM-L6-v2", Seq);
using var teacher = new SentenceEncoder(loaded.Model, loaded.Tokenizer, Pooling.Mean, normalize: false, "teacher");
var corpus = FullLengthTexts(loaded.Tokenizer, (warmup + steps) * Batch);
var config = ConfigLoader.Parse<RunConfig>($$"""
    teacher: { source: builtin:all-MiniLM-L6-v2 }
    data: { corpus: bench, max_len: {{Seq}}, batch: {{Batch}} }
    stages:
      - name: kd
        steps: {{warmup + steps}}
        losses: { embedding_mse: 1.0, attention_mse: { weight: 1.0, layer: -1, teacher_layer: -1 } }
        optimizer: { name: adamw, lr: 3.0e-5, betas: [0.9, 0.98], eps: 1.0e-8, weight_decay: 0.01 }
        schedule: { name: constant }
        log_every: 1
        checkpoint_every: 0
    seed: 1234
    """);
if (args.Contains("--profile"))
{
    manual_seed(1234);
    using var profiled = new SentenceEncoder(new BertEncoderModel(StudentBuilder.StudentConfig(teacher.Model.Config,
        new StudentSpec(3, Dropout: double.Parse(ArgValue("--dropout") ?? "0.1")))), teacher.Tokenizer, Pooling.Mean, normalize: false, "student");
    Console.WriteLine(JsonSerializer.Serialize(new { benchmark = "kd-step-profile", median_ms = StepProfile.Run(teacher, profiled, corpus, Batch, warmup + steps), load_average = new[] { loads[0], Load() } }));
    return;
}
string root = Directory.CreateTempSubdirectory("kdstep-").FullName;
var results = new List<object>();
try
{
    foreach (string mode in modes)
    {
        string cache = Path.Combine(root, "cache");
        if (mode == "warm-cache") Train(mode + "-fill", cache, null);
        var (stepSeconds, result) = mode switch
        {
            "online-torchsharp" => Train(mode, null, null),
            "online-onnxruntime" => Train(mode, null, "onnxruntime"),
            "warm-cache" => Train(mode, cache, null),
            _ => throw new ArgumentException($"unknown mode '{mode}'; known: online-torchsharp, online-onnxruntime, warm-cache"),
        };
        loads.Add(Load());
        var timed = stepSeconds.Skip(warmup).Select(s => s * 1e3).Order().ToList();
        double median = timed[timed.Count / 2];
        results.Add(new
        {
            mode, timed_steps = timed.Count, step_ms_median = Math.Round(median, 1), step_ms_min = Math.Round(timed[0], 1),
            step_ms_max = Math.Round(timed[^1], 1), steps_per_s = Math.Round(1e3 / median, 4), seq_per_s = Math.Round(Batch * 1e3 / median, 2),
            cache_hits = result.CacheHits, cache_misses = result.CacheMisses, loss_last = Math.Round(result.LastLoss, 6),
        });
        Console.Error.WriteLine($"{mode}: median step {median:F1} ms");
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}
Console.WriteLine(JsonSerializer.Serialize(new
{
    benchmark = "kd-step", date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"), threads, batch = Batch, seq = Seq,
    student = "3 × 384, 12 heads, FFN 1536, random init, dropout 0.1", teacher = "6 × 384 (all-MiniLM-L6-v2), eval, no grad",
    loss = "embedding_mse (mean-pooled, not normalised) + attention_mse (last layers)", optimizer = "AdamW(lr 3e-5, betas (0.9, 0.98), eps 1e-8, wd 0.01)",
    warmup_steps = warmup, load_average = loads, results,
}, new JsonSerializerOptions { WriteIndented = true }));

(List<double> StepSeconds, TrainingResult Result) Train(string name, string? cacheRoot, string? engine)
{
    // The same random student for every mode (seeded), so every mode trains the same numbers.
    manual_seed(1234);
    var studentConfig = StudentBuilder.StudentConfig(teacher.Model.Config, new StudentSpec(3, Dropout: 0.1));
    using var student = new SentenceEncoder(new BertEncoderModel(studentConfig), teacher.Tokenizer, Pooling.Mean, normalize: false, "student");
    string runDir = Path.Combine(root, name);
    var result = new Distiller(config.DistillPlan(), teacher, student, corpus, new DistillerOptions(runDir, CacheRoot: cacheRoot,
        ActivationStatsEvery: 0, TrimNativeMemoryEvery: 0,
        TeacherEngine: engine is null ? null : (t, outputs) => TeacherEngines.Create(engine, t, threads, outputs))).Run();
    var stepSeconds = MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl")).Select(r => r["step_s"].GetDouble()).ToList();
    return (stepSeconds, result);
}

// Texts of random whole-word vocabulary entries, long enough that every one fills max_len: 32 × 64 ids, no padding, like the peer.
static List<string> FullLengthTexts(BertTextTokenizer tokenizer, int count)
{
    var words = tokenizer.VocabText.Split('\n').Select(w => w.Trim()).Skip(1000).Where(w => w.Length > 2 && w.All(char.IsAsciiLetterLower)).ToArray();
    var rng = new Random(1235);
    var texts = Enumerable.Range(0, count).Select(_ => string.Join(' ', Enumerable.Range(0, Seq + 8).Select(_ => words[rng.Next(words.Length)]))).ToList();
    var check = tokenizer.EncodeBatch(texts.Take(Batch).ToList());
    if (check.Length != Seq || check.RealTokens != Batch * Seq)
        throw new InvalidOperationException($"bench texts tokenize to {check.Length} tokens with {check.RealTokens} real, expected {Seq} and {Batch * Seq}");
    return texts;
}

string? ArgValue(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
