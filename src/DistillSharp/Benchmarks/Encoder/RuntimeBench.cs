using DistillSharp.Runtime;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Benchmarks.Encoder;

/// <summary>What `distill bench` measures.</summary>
/// <param name="Model">Model spec (see <see cref="BenchTargets"/>).</param>
/// <param name="Runtime">torch, int8, onnx or onnx-int8.</param>
/// <param name="Batches">Batch sizes, each timed separately.</param>
/// <param name="Seq">Tokens per sequence (every sequence exactly this long, no padding).</param>
/// <param name="Runs">Timed runs per batch size (after warm-up).</param>
/// <param name="Threads">Threads (intra-op for torch and ONNX Runtime, kernel threads for int8).</param>
/// <param name="Fuse">int8 runtime only: fused epilogues (false = separate passes).</param>
/// <param name="Warmup">Untimed runs per batch size.</param>
public sealed record RuntimeBenchOptions(string Model, string Runtime = "torch", IReadOnlyList<int>? Batches = null, int Seq = 64,
    int Runs = 50, int Threads = 1, bool Fuse = true, int Warmup = 5)
{
    /// <summary>Largest batch size a benchmark takes.</summary>
    public const int MaxBatch = 65536;

    /// <summary>Batch sizes, default 1 and 32.</summary>
    public IReadOnlyList<int> BatchSizes => Batches is { Count: > 0 } b ? b : [1, 32];

    /// <summary>Throws <see cref="DistillSharpException"/> naming the bad option.</summary>
    public RuntimeBenchOptions Validate()
    {
        if (BatchSizes.Any(b => b is < 1 or > MaxBatch)) throw new DistillSharpException($"--batch values must be in [1, {MaxBatch}], got {string.Join(", ", BatchSizes)}");
        if (Seq is < 3 or > 512) throw new DistillSharpException($"--seq must be in [3, 512] (room for [CLS] and [SEP]), got {Seq}");
        if (Runs is < 1 or > 1_000_000) throw new DistillSharpException($"--runs must be in [1, 1000000], got {Runs}");
        if (Warmup is < 0 or > 100_000) throw new DistillSharpException($"warm-up runs must be in [0, 100000], got {Warmup}");
        if (Threads is < 1 or > 1024) throw new DistillSharpException($"--threads must be in [1, 1024], got {Threads}");
        return this;
    }
}

/// <summary>The result of `distill bench`: one <see cref="BenchResult"/> per batch size, raw samples included.</summary>
public sealed record RuntimeBenchReport(RuntimeBenchOptions Options, string ModelPath, long ModelBytes, IReadOnlyList<BenchResult> Results,
    string DateUtc, string Cpu, string LoadAverage)
{
    /// <summary>The report as JSON (snake_case keys; samples_ms holds every timed run).</summary>
    public JsonObject ToJson()
    {
        var results = new JsonArray();
        foreach (var r in Results)
            results.Add(new JsonObject
            {
                ["batch"] = r.Batch, ["seq"] = r.SeqLen,
                ["p50_ms"] = Math.Round(r.P50Ms, 3), ["p90_ms"] = Math.Round(r.P90Ms, 3), ["p99_ms"] = Math.Round(r.P99Ms, 3),
                ["mean_ms"] = Math.Round(r.MeanMs, 3), ["sequences_per_s"] = Math.Round(r.SequencesPerSecond, 1),
                ["tokens_per_s"] = Math.Round(r.TokensPerSecond, 0), ["peak_rss_bytes"] = r.PeakRssBytes,
                ["samples_ms"] = new JsonArray(r.SamplesMs.Select(s => (JsonNode?)Math.Round(s, 4)).ToArray()),
            });
        return new JsonObject
        {
            ["model"] = Options.Model, ["runtime"] = Options.Runtime, ["model_path"] = ModelPath, ["model_bytes"] = ModelBytes,
            ["threads"] = Options.Threads, ["fused"] = Options.Runtime == "int8" ? Options.Fuse : null,
            ["warmup"] = Options.Warmup, ["runs"] = Options.Runs,
            ["date_utc"] = DateUtc, ["cpu"] = Cpu, ["load_average"] = LoadAverage, ["results"] = results,
        };
    }

    /// <summary>Indented JSON text.</summary>
    public string ToJsonText() => ToJson().ToJsonString(new JsonSerializerOptions
    {
        WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>Times one model in one runtime over several batch sizes (inputs of exactly <c>Seq</c> tokens).</summary>
public static class RuntimeBench
{
    /// <summary>Opens the model, warms up, times each batch size and reports; <paramref name="log"/> gets progress lines.</summary>
    public static RuntimeBenchReport Run(RuntimeBenchOptions options, TextWriter? log = null)
    {
        options.Validate();
        using var target = BenchTargets.Open(options.Model, options.Runtime, options.Seq, options.Threads, options.Fuse);
        long available = MemoryBudget.Bytes;
        foreach (int batch in options.BatchSizes)
            if (target.WorkingBytes(batch, options.Seq) is var need && need > available)
                throw new DistillSharpException(
                    $"--batch {batch} × --seq {options.Seq} needs about {need / 1e9:F1} GB in the {options.Runtime} runtime, more than the {available / 1e9:F1} GB of memory available; use a smaller --batch");
        var results = new List<BenchResult>();
        foreach (int batch in options.BatchSizes)
        {
            var input = EncoderSpeed.FullBatch(target.Tokenizer, batch, options.Seq);
            log?.WriteLine($"{options.Runtime} batch {batch} × {options.Seq}: {options.Warmup} warm-up + {options.Runs} timed runs");
            results.Add(LatencyBenchmark.Run($"{options.Runtime}:{target.Path}", batch, options.Seq, () => target.Run(input),
                new BenchOptions(options.Warmup, options.Runs)));
        }
        return new RuntimeBenchReport(options, target.Path, target.ModelBytes, results, DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
            CpuName(), LoadAverage());
    }

    /// <summary>The CPU model name (/proc/cpuinfo), or the processor count elsewhere.</summary>
    public static string CpuName()
    {
        const string info = "/proc/cpuinfo";
        string? line = File.Exists(info) ? File.ReadLines(info).FirstOrDefault(l => l.StartsWith("model name")) : null;
        string name = line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
        return $"{name}, {Environment.ProcessorCount} logical cores";
    }

    /// <summary>The contents of /proc/loadavg, or "" elsewhere.</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";
}
