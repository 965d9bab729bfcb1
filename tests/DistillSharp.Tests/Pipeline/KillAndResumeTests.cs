using System.Diagnostics;
using DistillSharp.Distillation;
using DistillSharp.Models.Encoder;

namespace DistillSharp.Tests.Pipeline;

/// <summary>
/// `distill run` as a separate process on a tiny teacher and a tiny text file: killed with SIGKILL
/// after its first checkpoint, then resumed, it must end with exactly the losses of an
/// uninterrupted run (the checkpoint holds weights, optimizer, RNG and data position; metrics
/// past the checkpoint are dropped and re-logged).
/// </summary>
public sealed class KillAndResumeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("killresume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Setup()
    {
        string teacher = Path.Combine(_dir, "teacher");
        using (var encoder = TinyModels.Encoder(seed: 2)) HuggingFaceFolder.Save(encoder, teacher);
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllLines(corpus, Enumerable.Range(0, 200).Select(i =>
            string.Join(' ', Enumerable.Range(0, 3 + i % 11).Select(j => TinyModels.Words[(i * 5 + j * 7) % 26]))));
        string config = Path.Combine(_dir, "tiny.yaml");
        File.WriteAllText(config, $$"""
            teacher: { source: {{teacher}} }
            student: { layers: 1, hidden: 32, heads: 4, ffn: 64, init: teacher, teacher_layers: [1] }
            data: { corpus: {{corpus}}, max_len: 32, batch: 8 }
            stages:
              - name: align
                steps: 400
                losses: { hidden_mse: 1.0, embedding_cosine: 1.0 }
                optimizer: { lr: 1.0e-3, betas: [0.9, 0.98] }
                checkpoint_every: 25
                log_every: 1
            quantize: { recipe: int8-dynamic }
            eval: []
            bench: { batch: [1, 2], seq: 16, runs: 3 }
            seed: 11
            """);
        return config;
    }

    // Each run gets its own (empty) teacher cache: cached teacher outputs are fp16, so a run that
    // found another run's cache would see slightly different losses from its first step.
    Process Start(string cache, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "distill.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DISTILLSHARP_THREADS"] = "1";
        start.Environment["DISTILLSHARP_CACHE"] = Path.Combine(_dir, cache);
        var p = Process.Start(start)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    void RunToEnd(string cache, params string[] args)
    {
        using var p = Start(cache, args);
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "distill run did not finish");
        Assert.Equal(0, p.ExitCode);
    }

    static List<double> Losses(string run) =>
        MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(r => r["loss"].GetDouble()).ToList();

    [Fact]
    [Trait("Category", "Slow")]
    public void KilledRunResumesToTheSameLosses()
    {
        string config = Setup();
        string straight = Path.Combine(_dir, "straight"), killed = Path.Combine(_dir, "killed");
        RunToEnd("cache-straight", "run", config, "--out", straight);

        using (var p = Start("cache-killed", "run", config, "--out", killed))
        {
            var clock = Stopwatch.StartNew();
            while (DistillCheckpoint.Latest(killed) is not { } c || DistillCheckpoint.ReadState(c).GlobalStep < 50)
            {
                Assert.False(p.HasExited, "the run ended before it could be killed");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "no checkpoint appeared");
                Thread.Sleep(20);
            }
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        long stoppedAt = DistillCheckpoint.ReadState(DistillCheckpoint.Latest(killed)!).GlobalStep;
        Assert.True(stoppedAt < 400, $"killed too late (step {stoppedAt})");
        RunToEnd("cache-killed", "run", config, "--out", killed, "--resume");

        var a = Losses(straight);
        var b = Losses(killed);
        Assert.Equal(400, a.Count);
        Assert.Equal(a, b);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "student", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(killed, "student", "model.safetensors")));
    }
}
