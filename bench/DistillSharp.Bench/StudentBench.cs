using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Bench;

/// <summary>
/// A run folder's INT8 student, side by side in one process and alternating call by call: our
/// <see cref="Int8Encoder"/> on <c>student-int8/</c> against ONNX Runtime on <c>student-int8.onnx</c>
/// (the same quantized weights), through the toolkit's <see cref="OnnxRuntimeEncoder"/> (what
/// <c>distill bench</c> times) and through <see cref="OrtSession"/> (pre-bound OrtValues, ORT's
/// lowest call overhead). Batches of exactly <c>seq</c> tokens, wall clock.
/// </summary>
static class StudentBench
{
    public sealed record Row(string Clock, int Threads, int Batch, int Seq, int Rounds, Dictionary<string, Dictionary<string, double>> Stats,
        Dictionary<string, double> Ratios);

    public static List<Row> Run(string runDir, int threads, IReadOnlyList<int> batches, int seq, double budgetSeconds, bool threadCpuTime = false)
    {
        var rows = new List<Row>();
        byte[] int8Onnx = File.ReadAllBytes(Path.Combine(runDir, "student-int8.onnx"));
        using var ours = new Int8Encoder(EncoderToRuntime.Load(runDir, seq), new Int8EncoderOptions(threads));
        using var ortWrapped = new OnnxRuntimeEncoder(int8Onnx, threads: threads);
        using var ortLean = new OrtSession(int8Onnx, threads);
        // The same runtime with other pass sizes (Int8EncoderOptions.MaxPassTokens), to show what the default buys.
        using var onePass = new Int8Encoder(ours.Weights, new Int8EncoderOptions(threads, MaxPassTokens: int.MaxValue));
        using var pass128 = new Int8Encoder(ours.Weights, new Int8EncoderOptions(threads, MaxPassTokens: 128));
        using var pass512 = new Int8Encoder(ours.Weights, new Int8EncoderOptions(threads, MaxPassTokens: 512));
        using var opParallel = new Int8Encoder(ours.Weights, new Int8EncoderOptions(threads, ParallelPasses: false));
        foreach (int batch in batches)
        {
            var input = EncoderSpeed.FullBatch(ours.Tokenizer, batch, seq);
            var variants = new List<(string, Action)>
            {
                ("int8", () => ours.Forward(input)),
                ("ort_int8", () => ortWrapped.RunDiscard(input)),
                ("ort_int8_lean", () => ortLean.Run(input)),
            };
            if (batch > 4)
                variants.AddRange([("int8_one_pass", () => onePass.Forward(input)), ("int8_pass128", () => pass128.Forward(input)),
                    ("int8_pass512", () => pass512.Forward(input)), ("int8_op_parallel", () => opParallel.Forward(input))]);
            var samples = Timing.Samples(variants, budgetSeconds, warmup: batch == 1 ? 20 : 3, minRounds: batch == 1 ? 200 : 20, maxRounds: 5000, threadCpuTime: threadCpuTime);
            var stats = samples.ToDictionary(s => s.Key, s => new Dictionary<string, double>
            {
                ["p50_ms"] = Math.Round(Timing.Percentile(s.Value, 50) * 1e3, 3),
                ["p90_ms"] = Math.Round(Timing.Percentile(s.Value, 90) * 1e3, 3),
                ["p99_ms"] = Math.Round(Timing.Percentile(s.Value, 99) * 1e3, 3),
                ["min_ms"] = Math.Round(s.Value.Min() * 1e3, 3),
                ["sequences_per_s"] = Math.Round(batch / Timing.Percentile(s.Value, 50), 1),
            });
            var ratios = new Dictionary<string, double>
            {
                ["ort_int8_over_int8_p50"] = Math.Round(stats["ort_int8"]["p50_ms"] / stats["int8"]["p50_ms"], 3),
                ["ort_int8_lean_over_int8_p50"] = Math.Round(stats["ort_int8_lean"]["p50_ms"] / stats["int8"]["p50_ms"], 3),
                ["ort_int8_lean_over_int8_p99"] = Math.Round(stats["ort_int8_lean"]["p99_ms"] / stats["int8"]["p99_ms"], 3),
            };
            var row = new Row(threadCpuTime ? "thread-cpu-time" : "wall-clock", threads, batch, seq, samples["int8"].Count, stats, ratios);
            rows.Add(row);
            Console.Error.WriteLine($"{row.Clock} t{threads} b{batch}: " + string.Join("; ", stats.Select(s => $"{s.Key} p50 {s.Value["p50_ms"]} p99 {s.Value["p99_ms"]}")) +
                                    " | " + string.Join(", ", ratios.Select(r => $"{r.Key} {r.Value}")));
        }
        return rows;
    }
}
