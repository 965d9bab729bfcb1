// Distillation step benchmark: (a) activation checkpointing's peak memory and step time, each
// variant in its own process (VmHWM is per process); (b) steps/s with a cold vs a warm teacher cache.
// Usage: dotnet run -c Release --project bench/DistillStep [-- --steps N --cache-steps N --threads N --glibc-default]
// Prints one JSON object. Internal: --variant plain|checkpoint runs one part-(a) process.
using System.Diagnostics;
using System.Text.Json;
using DistillSharp.Diagnostics;
using static TorchSharp.torch;

int steps = int.Parse(ArgValue("--steps") ?? "3");
int cacheSteps = int.Parse(ArgValue("--cache-steps") ?? "16");
bool glibcDefault = args.Contains("--glibc-default");
int threads = int.Parse(ArgValue("--threads") ?? Environment.ProcessorCount.ToString());
TorchNative.EnsureLoadable();
set_num_threads(threads);

if (ArgValue("--variant") is string variant)
{
    Console.WriteLine(JsonSerializer.Serialize(CheckpointStep.Run(variant == "checkpoint", steps)));
    return;
}

var checkpointing = new Dictionary<string, JsonElement>();
var loads = new List<string> { LoadAverage() };
foreach (string v in new[] { "plain", "checkpoint" })
{
    checkpointing[v] = RunChild(v);
    loads.Add(LoadAverage());
}
double Peak(string v) => checkpointing[v].GetProperty("peak_rss_mb").GetDouble();
double OverBase(string v) => checkpointing[v].GetProperty("step_peak_over_baseline_mb").GetDouble();
double Median(string v) => checkpointing[v].GetProperty("median_step_ms").GetDouble();

var cache = CacheEpochs.Run(cacheSteps, batch: 32, maxLen: 64);
loads.Add(LoadAverage());

Console.WriteLine(JsonSerializer.Serialize(new
{
    benchmark = "distill-step", date = DateTime.UtcNow.ToString("yyyy-MM-dd"), cpu = CpuModel(), threads,
    loadavg = loads, malloc = glibcDefault ? "glibc defaults" : "MALLOC_MMAP_THRESHOLD_=131072 in part (a)",
    checkpointing = new
    {
        student = "3 x 384, 12 heads, FFN 1536", teacher = "6 x 384 random", batch = $"{CheckpointStep.Batch} x {CheckpointStep.Tokens}",
        losses = "hidden_mse + minilm_attention",
        plain = checkpointing["plain"], checkpoint = checkpointing["checkpoint"],
        peak_saving = Math.Round(1 - Peak("checkpoint") / Peak("plain"), 3),
        step_memory_saving = Math.Round(1 - OverBase("checkpoint") / OverBase("plain"), 3),
        step_time_ratio = Math.Round(Median("checkpoint") / Median("plain"), 3),
    },
    teacher_cache = cache,
}, new JsonSerializerOptions { WriteIndented = true }));

JsonElement RunChild(string v)
{
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
    // Large blocks straight from mmap and back on free: RSS then follows live tensor memory instead of
    // what glibc's arenas happen to retain (which made the two variants' peaks differ by noise only).
    if (!glibcDefault) start.Environment["MALLOC_MMAP_THRESHOLD_"] = "131072";
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") // started as `dotnet DistillStep.dll`
        start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
    foreach (string a in new[] { "--variant", v, "--steps", steps.ToString(), "--threads", threads.ToString() }) start.ArgumentList.Add(a);
    using var child = Process.Start(start)!;
    string output = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    if (child.ExitCode != 0) throw new InvalidOperationException($"variant {v} exited with {child.ExitCode}");
    return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string CpuModel() => File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown"
    : "unknown";

string? ArgValue(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
