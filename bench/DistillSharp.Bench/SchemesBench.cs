using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Evaluation;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Bench;

/// <summary>
/// Activation-quantization schemes × runtimes on a run folder's INT8 student (the same int8 weights
/// throughout): our runtime per token (symmetric, its default) and per tensor (asymmetric, ONNX
/// Runtime's DynamicQuantizeLinear rule over the whole batch); ONNX Runtime on the per-tensor export
/// (DynamicQuantizeMatMul, the run's student-int8.onnx) and on a per-token export. For each: the run's
/// task metrics, and speed side by side (alternating calls) at batch 1 and 32.
/// </summary>
static class SchemesBench
{
    public sealed record Variant(string Name, string Runtime, string Scheme, Dictionary<string, IReadOnlyDictionary<string, double>> Quality,
        Dictionary<string, double> Speed);

    public static List<Variant> Run(string runDir, int threads, double budgetSeconds, TextWriter log)
    {
        using var student = ModelLoader.Load(Path.Combine(runDir, "student"), 64);
        var weights = EncoderToRuntime.Load(runDir, 64);
        string perToken = Path.Combine(Path.GetTempPath(), $"student-int8-per-token-{Environment.ProcessId}.onnx");
        OnnxExporter.ExportInt8(student, weights.Quantized, perToken, new OnnxExportOptions(DynamicActivations: OnnxDynamicActivations.PerToken));
        byte[] perTensorOnnx = File.ReadAllBytes(Path.Combine(runDir, "student-int8.onnx")), perTokenOnnx = File.ReadAllBytes(perToken);
        File.Delete(perToken);
        using var oursToken = new Int8Encoder(weights, new Int8EncoderOptions(threads));
        using var oursTensor = new Int8Encoder(weights, new Int8EncoderOptions(threads, MaxPassTokens: int.MaxValue, PerTensorActivations: true));
        using var ortTensor = new OnnxRuntimeEncoder(perTensorOnnx, threads: threads);
        using var ortToken = new OnnxRuntimeEncoder(perTokenOnnx, threads: threads);
        using var leanTensor = new OrtSession(perTensorOnnx, threads);
        using var leanToken = new OrtSession(perTokenOnnx, threads);
        var tok = student.Tokenizer;

        // Quality: the run's tasks; the teacher (for agreement) through ONNX Runtime fp32 on its own ONNX.
        var data = EvalData.Real(log);
        using var teacher = ModelLoader.Load("builtin:all-MiniLM-L6-v2", 64);
        var teacherOnnx = BuiltinTeachers.Get("all-MiniLM-L6-v2").ReadResources().Onnx;
        using var teacherOrt = new OnnxRuntimeEncoder(teacherOnnx, threads: threads);
        var teacherEmbed = VariantMeasurer.Memoized(t => teacherOrt.Embed(t, teacher.Tokenizer, teacher.Pooling, teacher.Normalize));
        string[] tasks = ["wordnet-retrieval", "spam-f1", "agreement"];
        var quality = new Dictionary<string, Dictionary<string, IReadOnlyDictionary<string, double>>>
        {
            ["ours_per_token"] = VariantMeasurer.Quality(t => oursToken.Embed(t), tasks, data, teacherEmbed, log),
            ["ours_per_tensor"] = VariantMeasurer.Quality(t => oursTensor.Embed(t), tasks, data, teacherEmbed, log),
            ["ort_per_tensor"] = VariantMeasurer.Quality(t => ortTensor.Embed(t, tok, student.Pooling, student.Normalize), tasks, data, teacherEmbed, log),
            ["ort_per_token"] = VariantMeasurer.Quality(t => ortToken.Embed(t, tok, student.Pooling, student.Normalize), tasks, data, teacherEmbed, log),
        };

        var speed = quality.Keys.ToDictionary(k => k, _ => new Dictionary<string, double>());
        foreach (int batch in new[] { 1, 32 })
        {
            var input = EncoderSpeed.FullBatch(tok, batch, 64);
            var samples = Timing.Samples(new List<(string, Action)>
            {
                ("ours_per_token", () => oursToken.Forward(input)),
                ("ours_per_tensor", () => oursTensor.Forward(input)),
                ("ort_per_tensor", () => leanTensor.Run(input)),
                ("ort_per_token", () => leanToken.Run(input)),
            }, budgetSeconds, warmup: batch == 1 ? 20 : 3, minRounds: batch == 1 ? 200 : 20, maxRounds: 5000);
            foreach (var (name, s) in samples)
            {
                speed[name][$"b{batch}_p50_ms"] = Math.Round(Timing.Percentile(s, 50) * 1e3, 3);
                speed[name][$"b{batch}_p99_ms"] = Math.Round(Timing.Percentile(s, 99) * 1e3, 3);
                speed[name][$"b{batch}_sequences_per_s"] = Math.Round(batch / Timing.Percentile(s, 50), 1);
            }
        }
        var result = new List<Variant>
        {
            new("ours_per_token", "distillsharp-int8", "per-token symmetric int8", quality["ours_per_token"], speed["ours_per_token"]),
            new("ours_per_tensor", "distillsharp-int8", "per-tensor asymmetric uint8", quality["ours_per_tensor"], speed["ours_per_tensor"]),
            new("ort_per_tensor", "onnxruntime", "per-tensor asymmetric uint8 (DynamicQuantizeMatMul)", quality["ort_per_tensor"], speed["ort_per_tensor"]),
            new("ort_per_token", "onnxruntime", "per-token symmetric int8 (ReduceMax … MatMulInteger)", quality["ort_per_token"], speed["ort_per_token"]),
        };
        foreach (var v in result)
            log.WriteLine($"{v.Name}: {string.Join("; ", v.Quality.Select(q => $"{q.Key} {string.Join(" ", q.Value.Where(m => !m.Key.Contains("ci95")).Select(m => $"{m.Key}={m.Value:F4}"))}"))} | " +
                          string.Join(", ", v.Speed.Select(s => $"{s.Key} {s.Value}")));
        return result;
    }
}
