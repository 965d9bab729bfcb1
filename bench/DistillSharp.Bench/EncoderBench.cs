using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Quantization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Bench;

/// <summary>
/// Whole-encoder latency, side by side in one process: our INT8 runtime (fused and unfused) vs
/// TorchSharp fp32 vs ONNX Runtime fp32 and INT8 (the same dynamic PTQ model), on a 3×192 student
/// and the 6×384 teacher (all-MiniLM-L6-v2), batch 1 and 32 at 64 tokens.
/// </summary>
static class EncoderBench
{
    public sealed record Row(string Model, string Mode, int Threads, int Batch, int Seq, Dictionary<string, double> MedianMs,
        Dictionary<string, double> MinMs, Dictionary<string, double> Ratios);

    static readonly string[] Calibration =
    [
        "knowledge distillation trains a small student", "the cat sat on the mat", "quantization maps floats to integers",
        "a fast encoder for sentence embeddings", "benchmarks on a loaded machine are noisy",
    ];

    public static (List<Row> Rows, List<Dictionary<string, object>> Profiles) Run(int threads, bool quick)
    {
        using var teacher = ModelLoader.Load("builtin:all-MiniLM-L6-v2", 64);
        teacher.Model.eval();
        var studentModel = StudentBuilder.Build(teacher.Model, new StudentSpec(3, Hidden: 192, Heads: 6, Ffn: 768, Init: StudentInit.Projection));
        studentModel.eval();
        using var student = new SentenceEncoder(studentModel, teacher.Tokenizer, teacher.Pooling, teacher.Normalize, "student-3x192");
        var rows = new List<Row>();
        var profiles = new List<Dictionary<string, object>>();
        string dir = Directory.CreateTempSubdirectory("encoder-bench-").FullName;
        try
        {
            foreach (var (name, encoder) in new[] { ("student 3×192", student), ("teacher 6×384", teacher) })
            {
                var quantized = EncoderQuantizer.Quantize(encoder, new QuantizeConfig { Mode = "dynamic" }, Calibration);
                string fp32Path = Path.Combine(dir, "fp32.onnx"), int8Path = Path.Combine(dir, "int8.onnx");
                OnnxExporter.ExportFp32(encoder, fp32Path);
                OnnxExporter.ExportInt8(encoder, quantized, int8Path);
                var (fp32Onnx, int8Onnx) = (File.ReadAllBytes(fp32Path), File.ReadAllBytes(int8Path));
                foreach (var (t, cpuTime) in new[] { (threads, false), (1, true) })
                {
                    set_num_threads(t);
                    using var int8 = EncoderToRuntime.Build(encoder, quantized, new Int8EncoderOptions(t));
                    using var unfused = EncoderToRuntime.Build(encoder, quantized, new Int8EncoderOptions(t, Fuse: false));
                    using var ortFp32 = new OnnxRuntimeEncoder(fp32Onnx, threads: t);
                    using var ortInt8 = new OnnxRuntimeEncoder(int8Onnx, threads: t);
                    var torchForward = EncoderSpeed.TorchForward(encoder);
                    foreach (int batch in quick ? new[] { 1 } : new[] { 1, 32 })
                    {
                        var input = EncoderSpeed.FullBatch(encoder.Tokenizer, batch, 64);
                        var stats = Timing.Interleaved(new List<(string, Action)>
                        {
                            ("int8", () => int8.Forward(input)),
                            ("int8_unfused", () => unfused.Forward(input)),
                            ("torch_fp32", () => torchForward(input)),
                            ("ort_fp32", () => ortFp32.RunDiscard(input)),
                            ("ort_int8", () => ortInt8.RunDiscard(input)),
                        }, budgetSeconds: batch == 1 ? 1.5 : 4, warmup: batch == 1 ? 5 : 2, minRounds: batch == 1 ? 15 : 7, threadCpuTime: cpuTime);
                        var med = stats.ToDictionary(s => s.Key, s => Math.Round(s.Value.MedianSeconds * 1e3, 3));
                        var min = stats.ToDictionary(s => s.Key, s => Math.Round(s.Value.MinSeconds * 1e3, 3));
                        var ratios = new Dictionary<string, double>
                        {
                            ["int8_over_torch_fp32"] = Math.Round(med["int8"] / med["torch_fp32"], 3),
                            ["int8_over_ort_fp32"] = Math.Round(med["int8"] / med["ort_fp32"], 3),
                            ["ort_int8_over_int8"] = Math.Round(med["ort_int8"] / med["int8"], 3),
                            ["unfused_over_fused"] = Math.Round(med["int8_unfused"] / med["int8"], 3),
                        };
                        var row = new Row(name, cpuTime ? "thread-cpu-time" : "wall-clock", t, batch, 64, med, min, ratios);
                        rows.Add(row);
                        Console.Error.WriteLine($"{name} {row.Mode} t{t} b{batch}: {string.Join(", ", med.Select(kv => $"{kv.Key} {kv.Value} ms"))}; " +
                                                $"{string.Join(", ", ratios.Select(kv => $"{kv.Key} {kv.Value}"))}");
                        if (cpuTime) profiles.Add(Profile(name, int8, input));
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return (rows, profiles);
    }

    // Per-op share of one-thread CPU time, from the runtime's own op timer over 10 forward passes.
    static Dictionary<string, object> Profile(string model, Int8Encoder encoder, TokenBatch input)
    {
        encoder.StartProfile(Timing.ThreadCpuSeconds);
        for (int i = 0; i < 10; i++) encoder.Forward(input);
        var profile = encoder.StopProfile();
        double total = profile.Values.Sum();
        Console.Error.WriteLine($"  profile {model} b{input.Count}: {string.Join(", ", profile.Select(kv => $"{kv.Key} {kv.Value / total:P1}"))}");
        return new Dictionary<string, object>
        {
            ["model"] = model, ["batch"] = input.Count, ["threads"] = encoder.Options.Threads,
            ["ms_per_forward"] = Math.Round(total * 1e3 / 10, 3),
            ["share"] = profile.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value / total, 4)),
        };
    }
}
