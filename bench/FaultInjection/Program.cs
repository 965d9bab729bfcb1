// Fault injection: kills `distill run` with SIGKILL at random moments — mid-distillation, while a
// checkpoint is written, while the teacher cache is written, during export, and a kill of the resume
// itself — resumes it with --resume and checks that the student is byte-identical to an uninterrupted
// run's and that no kill left a folder that cannot resume. Encoder and LM kinds, tiny configs.
// With --storage (root: it mounts small tmpfs folders) it also fills the disk part-way through runs
// and turns run folders read-only before --resume (StorageTrial).
// Usage: dotnet run -c Release --project bench/FaultInjection [-- --kinds encoder,lm --trials 10 --seed 1 --work DIR --storage
//        --moments Random,CheckpointWrite,TeacherCacheWrite,Export,KillTheResume (default: all, in turn)]
// Prints one JSON object (per kind: trials, killed, identical, resumed; and every trial).
using System.Diagnostics;
using System.Text.Json;
using DistillSharp;
using DistillSharp.Diagnostics;
using DistillSharp.FaultInjection;

string[] kinds = (Arg("--kinds") ?? "encoder,lm").Split(',', StringSplitOptions.RemoveEmptyEntries);
int trials = int.Parse(Arg("--trials") ?? "10");
var random = new Random(int.Parse(Arg("--seed") ?? "1"));
string work = Path.GetFullPath(Arg("--work") ?? Path.Combine(Path.GetTempPath(), "distill-fault-injection"));
if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
Directory.CreateDirectory(work);
TorchNative.EnsureLoadable();
TorchSharp.torch.set_num_threads(1);

bool storage = args.Contains("--storage");
var results = new List<TrialResult>();
var storageResults = new List<StorageResult>();
var summary = new Dictionary<string, object>();
foreach (string name in kinds)
{
    var kind = name switch
    {
        "encoder" => TinyRuns.Encoder(work),
        "lm" => TinyRuns.Lm(work),
        _ => throw new ArgumentException($"unknown kind '{name}'; known: encoder, lm"),
    };
    // The uninterrupted run has its own, cold teacher cache; the trials share one (cold at first, then warm).
    string referenceDir = Path.Combine(work, $"{name}-reference");
    var clock = Stopwatch.StartNew();
    using (var reference = new ChildRun(["run", kind.Config, "--out", referenceDir], CacheRoot($"{name}-cache-reference")))
        if (reference.Wait(TimeSpan.FromMinutes(15)) is not 0) throw new InvalidOperationException($"the uninterrupted {name} run failed:\n{reference.Output}");
    double seconds = clock.Elapsed.TotalSeconds;
    var runner = new KillTrial(kind, work, CacheRoot($"{name}-cache-trials"), seconds, referenceDir);
    var moments = Arg("--moments") is { } only ? only.Split(',').Select(Enum.Parse<Moment>).ToArray() : Enum.GetValues<Moment>();
    var kindResults = Enumerable.Range(0, trials).Select(t =>
    {
        var r = runner.Run(t, moments[t % moments.Length], random);
        Console.Error.WriteLine($"{name} trial {t}: {r.Moment} killed at {r.KilledAtSeconds?.ToString() ?? "-"} s ({r.KilledDuring ?? "not killed"}); " +
                                $"resumes {r.Resumes}, identical {r.Identical}{(r.Problem is null ? "" : "; " + r.Problem)}");
        return r;
    }).ToList();
    results.AddRange(kindResults);
    var storageTrial = new StorageTrial(kind, work, CacheRoot($"{name}-cache-trials"), referenceDir);
    var kindStorage = !storage ? [] : new[] { 0.1, 0.3, 0.5, 0.7, 0.9 }.Select((f, i) => storageTrial.DiskFull(i, f))
        .Concat(new[] { 5, 45 }.Select((steps, i) => storageTrial.ReadOnly(i, steps))).ToList();
    foreach (var r in kindStorage)
        Console.Error.WriteLine($"{name} {r.Case}: exit {r.ExitCode} '{r.ErrorLine}', checkpoint intact {r.LastCheckpointIntact}, " +
                                $"half-written [{string.Join(", ", r.HalfWritten)}], resumed identical {r.ResumedIdentical}{(r.Problem is null ? "" : "; " + r.Problem)}");
    storageResults.AddRange(kindStorage);
    summary[name] = new
    {
        uninterrupted_s = Math.Round(seconds, 1), trials = kindResults.Count, killed = kindResults.Count(r => r.KilledAtSeconds is not null),
        resumed = kindResults.Count(r => r.Completed), identical = kindResults.Count(r => r.Identical),
        killed_mid_write = kindResults.Count(r => r.KilledDuring?.Contains("still there") == true),
        storage_trials = kindStorage.Count, storage_clean = kindStorage.Count(r => r.Problem is null && r.ResumedIdentical),
        storage_checkpoint_intact = kindStorage.Count(r => r.LastCheckpointIntact),
    };
}
Console.WriteLine(JsonSerializer.Serialize(new
{
    benchmark = "fault-injection", date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
    load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "", summary, trials = results, storage = storageResults,
}, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
Directory.Delete(work, recursive: true);

// A fresh cache root whose datasets are the shared, already fetched ones (no second download).
string CacheRoot(string name)
{
    string root = Path.Combine(work, name);
    Directory.CreateDirectory(root);
    string npm = CachePaths.Npm;
    if (Directory.Exists(npm) && !Path.Exists(Path.Combine(root, "npm"))) Directory.CreateSymbolicLink(Path.Combine(root, "npm"), npm);
    return root;
}

string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
