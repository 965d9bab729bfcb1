using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Bench;

/// <summary>
/// Where the time goes, both runtimes, one thread: our op timer (thread CPU time) and ONNX
/// Runtime's own node profiler (its JSON trace, summed per op type) on the run folder's INT8 student.
/// </summary>
static class StudentProfile
{
    public static List<Dictionary<string, object>> Run(string runDir, int passes = 20)
    {
        var result = new List<Dictionary<string, object>>();
        using var ours = new Int8Encoder(EncoderToRuntime.Load(runDir, 64), new Int8EncoderOptions(1));
        byte[] onnx = File.ReadAllBytes(Path.Combine(runDir, "student-int8.onnx"));
        foreach (int batch in new[] { 1, 32 })
        {
            var input = EncoderSpeed.FullBatch(ours.Tokenizer, batch, 64);
            for (int i = 0; i < 3; i++) ours.Forward(input);
            // Each op's fastest pass (thread CPU time): on a loaded machine interference only adds time.
            var mine = new Dictionary<string, double>();
            for (int i = 0; i < passes; i++)
            {
                ours.StartProfile(Timing.ThreadCpuSeconds);
                ours.Forward(input);
                foreach (var (op, sec) in ours.StopProfile())
                    mine[op] = Math.Round(Math.Min(mine.GetValueOrDefault(op, double.MaxValue), sec * 1e3), 3);
            }

            string prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{Environment.ProcessId}-b{batch}");
            var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = prefix;
            string file;
            using (var session = new OrtSessionProfiled(onnx, options))
            {
                for (int i = 0; i < 3 + passes; i++) session.Run(input);
                file = session.EndProfiling();
            }
            options.Dispose();
            // Each node's fastest run (as ours: on a loaded machine interference only adds time), summed per op type.
            var fastest = new Dictionary<string, (string Op, double Ms)>();
            using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
                foreach (var e in doc.RootElement.EnumerateArray())
                {
                    string name = e.GetProperty("name").GetString()!;
                    if (e.GetProperty("cat").GetString() != "Node" || !name.EndsWith("_kernel_time")) continue;
                    string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                    double ms = e.GetProperty("dur").GetDouble() / 1e3;
                    fastest[name] = fastest.TryGetValue(name, out var f) ? (op, Math.Min(f.Ms, ms)) : (op, ms);
                }
            File.Delete(file);
            var ort = fastest.Values.GroupBy(v => v.Op).ToDictionary(g => g.Key, g => Math.Round(g.Sum(v => v.Ms), 3));
            Console.Error.WriteLine($"b{batch} ours (ms, fastest of {passes} passes per op): {string.Join(", ", mine.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}"))}; total {mine.Values.Sum():F3}");
            Console.Error.WriteLine($"b{batch} ORT  (ms, fastest run per node, wall in node): {string.Join(", ", ort.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"))}; total {ort.Values.Sum():F3}");
            result.Add(new Dictionary<string, object> { ["batch"] = batch, ["ours_ms_thread_cpu"] = mine, ["ort_ms_node_wall"] = ort });
        }
        return result;
    }

    sealed class OrtSessionProfiled(byte[] onnx, SessionOptions options) : IDisposable
    {
        readonly InferenceSession _session = new(onnx, options);

        public void Run(DistillSharp.Runtime.Tokenization.TokenBatch batch)
        {
            int b = batch.Count, t = batch.Length;
            var inputs = _session.InputMetadata.Keys.Select(name =>
            {
                var src = name switch { "input_ids" => batch.InputIds, "attention_mask" => batch.AttentionMask, _ => batch.TokenTypeIds };
                var flat = new long[b * t];
                Buffer.BlockCopy(src, 0, flat, 0, flat.Length * sizeof(long));
                return NamedOnnxValue.CreateFromTensor(name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(flat, [b, t]));
            }).ToList();
            using var _ = _session.Run(inputs);
        }

        public string EndProfiling() => _session.EndProfiling();

        public void Dispose() => _session.Dispose();
    }
}
