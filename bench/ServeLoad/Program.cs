// Serving benchmark: the same texts against `distill serve` (a child process) for each target
// model/runtime, open-loop (distill loadtest's generator), side by side in one run. Prints one JSON object.
// Usage (from the repo root, after `dotnet build -c Release src/DistillSharp.Cli`):
//   dotnet run -c Release --project bench/ServeLoad -- --run runs/default [--teacher builtin:all-MiniLM-L6-v2]
//     [--rates 10,20,40,…] [--duration 20] [--goal-ms 50] [--threads 2] [--texts FILE] [--soak-minutes 10] [--overload-seconds 30]
//     [--serve-args "--max-queue 256"] [--targets a,b] [--write-texts FILE (only write the 64-token texts)]
// Targets: student_int8 (int8, RUN), student_onnx_int8 (onnx-int8, RUN), teacher_fp32 (torch, TEACHER),
// teacher_onnx_fp32 (onnx, TEACHER); --targets picks a subset by name.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Cli.Serving;
using DistillSharp.Diagnostics;
using DistillSharp.Serving.LoadTesting;
using ServeLoad;

string run = Arg("--run") ?? "runs/default";
string teacher = Arg("--teacher") ?? "builtin:all-MiniLM-L6-v2";
double[] rates = (Arg("--rates") ?? "10,20,40,60,80,120,160,240,320,480,640,960").Split(',').Select(double.Parse).ToArray();
double duration = double.Parse(Arg("--duration") ?? "20"), goal = double.Parse(Arg("--goal-ms") ?? "50");
int threads = int.Parse(Arg("--threads") ?? Environment.ProcessorCount.ToString());
double soakMinutes = double.Parse(Arg("--soak-minutes") ?? "0"), overloadSeconds = double.Parse(Arg("--overload-seconds") ?? "0");
string root = RepoRoot();
string distill = Arg("--distill") ?? Path.Combine(root, "src/DistillSharp.Cli/bin/Release/net10.0/distill");
if (!File.Exists(distill)) throw new FileNotFoundException($"{distill}: build it first (dotnet build -c Release src/DistillSharp.Cli)");
var log = Console.Error;

var allTargets = new (string Name, string Runtime, string Model)[]
{
    ("student_int8", "int8", run), ("student_onnx_int8", "onnx-int8", run), ("teacher_fp32", "torch", teacher), ("teacher_onnx_fp32", "onnx", teacher),
};
var chosen = Arg("--targets")?.Split(',').ToHashSet();
var targets = allTargets.Where(t => chosen is null || chosen.Contains(t.Name)).ToList();

List<string> texts = Arg("--texts") is { } file ? [.. File.ReadAllLines(file).Where(l => l.Trim().Length > 0)]
    : Texts64.Make(Path.Combine(run, "student-int8", "vocab.txt"), 500, log);
log.WriteLine($"{texts.Count} texts; load {Load()}");
if (Arg("--write-texts") is { } textsOut)
{
    File.WriteAllLines(textsOut, texts);   // for distill loadtest --texts and crosscheck.sh
    log.WriteLine($"wrote {textsOut}");
    return;
}
if (targets.Any(t => t.Runtime == "torch")) TorchNative.EnsureLoadable();

var result = new JsonObject
{
    ["cpu"] = Environment.ProcessorCount, ["threads"] = threads, ["goal_p99_ms"] = goal, ["duration_s"] = duration, ["texts"] = texts.Count,
    ["load_before"] = Load(), ["started"] = DateTimeOffset.UtcNow.ToString("o"),
};
var perTarget = new JsonObject();
var maxRate = new Dictionary<string, double>();
string[] serveArgs(string runtime, string model) => ["--model", model, "--runtime", runtime, "--threads", threads.ToString(), .. (Arg("--serve-args") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)];

foreach (var (name, runtime, model) in targets)
{
    log.WriteLine($"== {name}: {runtime} {model}");
    var bare = BareLatency(runtime, model, texts, threads);
    using var server = await ServerProcess.StartAsync(distill, serveArgs(runtime, model));
    var url = server.Url("/v1/embeddings");
    var low = await Measure(url, [5], 5, duration);
    var sweep = new List<LoadTestResult>();
    foreach (double rate in rates)
    {
        var r = (await Measure(url, [rate], 3, duration)).Runs[0];
        sweep.Add(r);
        if (r.P99Ms > 3 * goal || r.Errors.Values.Sum() > 0.01 * r.Sent) break;   // past the knee: higher rates only queue
    }
    double best = sweep.Where(Sustained).Select(r => r.TargetRate).DefaultIfEmpty(0).Max();
    maxRate[name] = best;
    perTarget[name] = new JsonObject
    {
        ["runtime"] = runtime, ["model"] = model,
        ["bare_p50_ms"] = bare.P50, ["bare_p99_ms"] = bare.P99,
        ["low_rate"] = Json(low.Runs[0]), ["server_overhead_p50_ms"] = low.Runs[0].P50Ms - bare.P50,
        ["max_rate_at_goal"] = best, ["sweep"] = new JsonArray([.. sweep.Select(r => (JsonNode)Json(r))]),
        ["rss_mb_after"] = server.RssBytes() / 1e6,
    };
}

// The article's ratios: student P99 at the teacher's highest sustainable rate, and max rates.
var ratios = new JsonObject();
foreach (string t in new[] { "teacher_fp32", "teacher_onnx_fp32" }.Where(maxRate.ContainsKey))
{
    if (!maxRate.ContainsKey("student_int8") || maxRate[t] <= 0) continue;
    using var server = await ServerProcess.StartAsync(distill, serveArgs("int8", run));
    var atTeacher = (await Measure(server.Url("/v1/embeddings"), [maxRate[t]], 3, duration)).Runs[0];
    double teacherP99 = perTarget[t]!["sweep"]!.AsArray().Select(n => n!).First(n => (double)n["target_rate"]! == maxRate[t])["p99_ms"]!.GetValue<double>();
    ratios[$"student_p99_over_{t}_p99_at_{t}_max_rate"] = atTeacher.P99Ms / teacherP99;
    ratios[$"student_max_rate_over_{t}"] = maxRate["student_int8"] / maxRate[t];
}
if (maxRate.TryGetValue("student_int8", out double s8) && maxRate.TryGetValue("student_onnx_int8", out double o8) && o8 > 0)
    ratios["int8_max_rate_over_onnx_int8"] = s8 / o8;
result["targets"] = perTarget;
result["ratios"] = ratios;

if (maxRate.TryGetValue("student_int8", out double studentMax) && studentMax > 0 && soakMinutes > 0)
    result["soak"] = await Soak(studentMax * 0.7, soakMinutes);
if (maxRate.TryGetValue("student_int8", out studentMax) && studentMax > 0 && overloadSeconds > 0)
{
    using var server = await ServerProcess.StartAsync(distill, serveArgs("int8", run));
    var over = (await Measure(server.Url("/v1/embeddings"), [2 * studentMax], 3, overloadSeconds)).Runs[0];
    bool healthy = server.Alive && (await new HttpClient().GetAsync(server.Url("/health"))).IsSuccessStatusCode;
    result["overload"] = new JsonObject { ["rate"] = 2 * studentMax, ["result"] = Json(over), ["alive_after"] = healthy, ["rss_mb"] = server.RssBytes() / 1e6 };
}
result["load_after"] = Load();
Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

bool Sustained(LoadTestResult r) => r.P99Ms <= goal && r.Errors.Count == 0 && r.AchievedQps >= 0.95 * r.TargetRate;

async Task<LoadTestReport> Measure(Uri url, double[] rs, double warmup, double seconds) =>
    await LoadTest.RunAsync(new LoadTestOptions(url, rs, seconds, Concurrency: 512, Texts: texts, WarmupSeconds: warmup), log);

// 30-second chunks at a fixed rate; the server's resident memory after each.
async Task<JsonObject> Soak(double rate, double minutes)
{
    using var server = await ServerProcess.StartAsync(distill, serveArgs("int8", run));
    var chunks = new JsonArray();
    var rss = new List<double>();
    int chunkCount = (int)Math.Ceiling(minutes * 2);
    for (int i = 0; i < chunkCount; i++)
    {
        var r = (await Measure(server.Url("/v1/embeddings"), [rate], i == 0 ? 5 : 0, 30)).Runs[0];
        rss.Add(server.RssBytes() / 1e6);
        chunks.Add(new JsonObject { ["t_s"] = (i + 1) * 30, ["p99_ms"] = r.P99Ms, ["ok"] = r.Ok, ["errors"] = r.Errors.Values.Sum(), ["rss_mb"] = rss[^1] });
    }
    var settled = rss.Skip(2).DefaultIfEmpty(rss[^1]).ToList();     // after the first minute of warm-up
    double mean = settled.Average();
    return new JsonObject
    {
        ["rate"] = rate, ["minutes"] = minutes, ["errors"] = chunks.Sum(c => c!["errors"]!.GetValue<int>()),
        ["rss_mb_min"] = settled.Min(), ["rss_mb_max"] = settled.Max(), ["rss_max_deviation"] = settled.Max(x => Math.Abs(x - mean)) / mean, ["chunks"] = chunks,
    };
}

// Batch-1 latency of the model itself on the same texts, in this process (no server), after warm-up.
static (double P50, double P99) BareLatency(string runtime, string model, List<string> texts, int threads)
{
    using var served = ServedModels.Open(model, runtime, threads);
    var ids = texts.Select(served.Tokenizer!.Encode).Select(i => served.Tokenizer.Truncate(i, served.Tokenizer.MaxTokens)).ToList();
    for (int i = 0; i < 20; i++) served.Embedding!.Embed([ids[i % ids.Count]]);
    var samples = new List<double>();
    for (int i = 0; i < 300; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        served.Embedding!.Embed([ids[i % ids.Count]]);
        samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }
    samples.Sort();
    return (LoadTest.Percentile(samples, 0.5), LoadTest.Percentile(samples, 0.99));
}

static JsonObject Json(LoadTestResult r) => new()
{
    ["target_rate"] = r.TargetRate, ["sent"] = r.Sent, ["ok"] = r.Ok, ["achieved_qps"] = r.AchievedQps,
    ["p50_ms"] = Finite(r.P50Ms), ["p90_ms"] = Finite(r.P90Ms), ["p99_ms"] = Finite(r.P99Ms), ["max_ms"] = Finite(r.MaxMs),
    ["errors"] = new JsonObject([.. r.Errors.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))]), ["max_late_ms"] = r.MaxLateMs,
    ["send_p50_ms"] = Finite(r.SendP50Ms), ["send_p99_ms"] = Finite(r.SendP99Ms),
};

static double? Finite(double v) => double.IsFinite(v) ? v : null;

static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";

static string RepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "DistillSharp.sln"))) return d.FullName;
    return Directory.GetCurrentDirectory();
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
