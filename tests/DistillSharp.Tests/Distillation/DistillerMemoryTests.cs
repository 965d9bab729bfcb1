using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Diagnostics;
using DistillSharp.Distillation;
using DistillSharp.Models.Encoder;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Distillation;

/// <summary>
/// A training step must not leak: the number of live TorchSharp tensors stays exactly constant and
/// the resident set stays flat (under 5% growth after warm-up) over many steps, with activation
/// checkpointing on (the custom autograd function is the riskiest path) and native memory trimmed.
/// </summary>
public sealed class DistillerMemoryTests : IDisposable
{
    const double MaxRssGrowth = 0.05;
    readonly string _dir = Directory.CreateTempSubdirectory("distiller-mem-").FullName;
    readonly ITestOutputHelper _out;

    public DistillerMemoryTests(ITestOutputHelper output) => _out = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Corpus = Enumerable.Range(0, 64).Select(i =>
        string.Join(' ', Enumerable.Range(0, 4 + i % 11).Select(j => TinyModels.Words[(i * 5 + j * 7) % 26]))).ToArray();

    static RunConfig Config(int steps, bool checkpoint) => ConfigLoader.Parse<RunConfig>($"""
        teacher: {"{"} source: tiny {"}"}
        student: {"{"} layers: 2, hidden: 32, heads: 4, ffn: 64 {"}"}
        data: {"{"} corpus: test, max_len: 32, batch: 16 {"}"}
        stages:
          - name: align
            steps: {steps}
            losses: {"{"} hidden_mse: 1.0, minilm_attention: 0.5, minilm_value: 0.5 {"}"}
            optimizer: {"{"} lr: 1e-3 {"}"}
            log_every: 1
        checkpoint_activations: {(checkpoint ? "true" : "false")}
        seed: 3
        """);

    /// <summary>Runs <paramref name="steps"/> steps; returns per-step RSS (bytes) and live tensor counts.</summary>
    (long[] Rss, long[] Live, List<double> Losses) Run(int steps, bool checkpoint, int trimEvery = 50)
    {
        // One thread: on this shared 2-core machine libtorch's second thread makes tiny steps 10-100× slower.
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            var teacher = TinyModels.Encoder(seed: 1);
            var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, new StudentSpec(2, TeacherLayers: [0, 1]), seed: 5),
                teacher.Tokenizer, Pooling.Mean, normalize: true, "student");
            var rss = new long[steps];
            var live = new long[steps];
            string runDir = Path.Combine(_dir, $"run-{checkpoint}-{steps}");
            var options = new DistillerOptions(runDir, ActivationStatsEvery: 0, TrimNativeMemoryEvery: trimEvery, Progress: p =>
            {
                rss[p.GlobalStep - 1] = NativeMemory.ResidentBytes();
                live[p.GlobalStep - 1] = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            });
            var result = new Distiller(Config(steps, checkpoint).DistillPlan(), teacher, student, Corpus, options).Run();
            Assert.True(result.Completed);
            for (int i = 0; i < steps; i += Math.Max(1, steps / 5))
                _out.WriteLine($"step {i + 1}: rss {rss[i] / 1e6:F1} MB, live tensors {live[i]}");
            var losses = MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl")).Select(r => r["loss"].GetDouble()).ToList();
            return (rss, live, losses);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    /// <summary>
    /// RSS: the peak after the first 50 post-warm-up steps stays within 5% of the peak in those 50
    /// (peaks, because trimming every 50 steps makes RSS a saw-tooth). Live tensors: every step after
    /// warm-up changes the count by exactly <paramref name="liveGrowthPerStep"/>. The last step is
    /// left out: it writes a checkpoint whose temporaries are freed only after the progress callback.
    /// </summary>
    void AssertFlat(long[] rss, long[] live, int warmup, int liveGrowthPerStep, int window = 50)
    {
        long baseline = rss.Skip(warmup).Take(window).Max();
        long later = rss.Skip(warmup + window).SkipLast(1).Max();
        _out.WriteLine($"rss peak in steps {warmup + 1}-{warmup + window}: {baseline / 1e6:F1} MB, later peak {later / 1e6:F1} MB ({(double)later / baseline - 1:P1})");
        Assert.True(later <= baseline * (1 + MaxRssGrowth), $"RSS grew from {baseline / 1e6:F1} MB to {later / 1e6:F1} MB");
        for (int i = warmup; i < live.Length - 1; i++)
            Assert.True(live[i] - live[i - 1] == liveGrowthPerStep, $"step {i + 1}: live tensors {live[i - 1]} → {live[i]}");
    }

    // With checkpointing TorchSharp hands every output of the checkpointed function that received no
    // gradient to backward as a Tensor with a null handle: it owns no memory, but the thread's
    // statistics count it as created and never disposed. Here that is layer 0's probabilities, Q, K,
    // V and layer 1's Q, K (hidden_mse uses hidden states, minilm_* the last layer's probs and V).
    const int NullGradientsPerStep = 6;

    [Fact]
    public void TwoHundredStepsLeaveNoTensorAndFlatMemory()
    {
        var (rss, live, _) = Run(200, checkpoint: false);
        AssertFlat(rss, live, warmup: 50, liveGrowthPerStep: 0);
    }

    [Fact]
    public void TwoHundredCheckpointedStepsLeaveNoTensorAndFlatMemory()
    {
        var (rss, live, _) = Run(200, checkpoint: true);
        AssertFlat(rss, live, warmup: 50, liveGrowthPerStep: NullGradientsPerStep);
    }

    // Over 2,000 steps RSS settles later than over 200: measured (2026-12-02) it climbs from 343 MB at
    // step 100 to 380 MB by step 500 (the GC commits 89 → 105 MB, libtorch's allocator the rest), then
    // stays within 380–388 MB to step 2,000. So the window starts after 500 steps and spans 100; a leak
    // of 14 KB a step still exceeds the 5% over the remaining 1,400 steps, and the live-tensor count
    // catches any leaked tensor exactly.
    [Fact, Trait("Category", "Slow")]
    public void TwoThousandCheckpointedStepsLeaveNoTensorAndFlatMemory()
    {
        var (rss, live, _) = Run(2000, checkpoint: true);
        AssertFlat(rss, live, warmup: 500, liveGrowthPerStep: NullGradientsPerStep, window: 100);
    }

    [Fact]
    public void CheckpointingLeavesTheLossesUnchanged()
    {
        var plain = Run(12, checkpoint: false).Losses;
        var checkpointed = Run(12, checkpoint: true).Losses;
        Assert.Equal(12, plain.Count);
        // Gradients differ by float32 rounding (~1e-8, CheckpointActivationsTests); AdamW divides by √v,
        // which turns that into ~1e-5 relative loss differences after a dozen steps (measured 1.4e-5).
        Assert.Equal(plain[0], checkpointed[0]);
        Assert.All(plain.Zip(checkpointed), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * Math.Abs(p.First), $"{p.First} vs {p.Second}"));
    }
}
