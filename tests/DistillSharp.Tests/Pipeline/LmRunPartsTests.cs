using DistillSharp.Benchmarks.Decoder;
using DistillSharp.Pipeline.Decoder;
using DistillSharp.Reports.Decoder;

namespace DistillSharp.Tests.Pipeline;

/// <summary>The LM pipeline's torch-free parts: ETA across phases, the speed bench's arithmetic, the report files.</summary>
public class LmRunPartsTests
{
    [Fact]
    public void EtaUsesTheMeasuredRateOverTheRemainingEstimatedWork()
    {
        double now = 0;
        var seen = new List<LmRunProgress>();
        var tracker = new LmEtaTracker([new("a", 2, 10), new("b", 4, 5)], seen.Add, () => now);
        tracker.Begin("a");
        Assert.True(double.IsNaN(seen[^1].EtaSeconds));
        now = 2;
        tracker.Step(1, 3.5);
        // 10 work in 2 s = 5/s; remaining 1·10 + 4·5 = 30 → 6 s. Done 10 of 40.
        Assert.Equal((6.0, 0.25, 3.5), (seen[^1].EtaSeconds, seen[^1].Fraction, seen[^1].Loss));
        now = 4;
        tracker.Step(2);
        tracker.End();
        now = 10; // time between phases is not measured
        tracker.Begin("b");
        now = 12;
        tracker.Step(2);
        // 30 work in 6 s = 5/s; remaining 2·5 = 10 → 2 s.
        Assert.Equal((2.0, 0.75, "b", 1), (seen[^1].EtaSeconds, seen[^1].Fraction, seen[^1].Phase, seen[^1].PhaseIndex));
        tracker.End(); // cut short (as by --max-steps): the phase counts as done
        Assert.Equal((1.0, 0.0), (tracker.Fraction, tracker.EtaSeconds));
        Assert.Throws<ArgumentException>(() => tracker.Begin("c"));
    }

    sealed class ScriptedTarget(params (double Prefill, double Decode)[] times) : IDecoderBenchTarget
    {
        public readonly List<(int Batch, int PromptLength, int NewTokens)> Calls = [];
        public string Runtime => "scripted";
        public (double PrefillSeconds, double DecodeSeconds) Run(IReadOnlyList<int[]> prompts, int newTokens)
        {
            Calls.Add((prompts.Count, prompts[0].Length, newTokens));
            return times[Calls.Count - 1];
        }
        public void Dispose() { }
    }

    [Fact]
    public void SpeedIsTokensOverTheMedianTimeAfterOneWarmUp()
    {
        // Call 0 is the warm-up (ignored); medians of the three timed runs: prefill 0.2 s, decode 0.5 s.
        var target = new ScriptedTarget((9, 9), (0.3, 0.5), (0.1, 0.4), (0.2, 0.6));
        var speed = Assert.Single(DecoderSpeedBench.Measure(target, new LmBenchConfig([2], PromptTokens: 4, NewTokens: 5, Runs: 3), Enumerable.Range(0, 10).ToList()));
        Assert.Equal([(2, 4, 2), (2, 4, 5), (2, 4, 5), (2, 4, 5)], target.Calls);
        // prefill 2·4 / 0.2 = 40 tokens/s; decode 2·5 / 0.5 = 20 tokens/s, 0.5 s / 5 steps = 100 ms per step.
        Assert.Equal(40, speed.PrefillTokensPerSecond, 9);
        Assert.Equal(20, speed.DecodeTokensPerSecond, 9);
        Assert.Equal(100, speed.DecodeMsPerTokenMedian, 9);
        Assert.Throws<DistillSharpException>(() => DecoderSpeedBench.Measure(target, new LmBenchConfig([1], PromptTokens: 64), [1, 2, 3]));
    }

    static LmReport SampleReport() => new()
    {
        Run = new LmRunInfo("tiny", "2026-11-28 21:00:00Z", 75, 1, 2, "/tmp/run", null),
        Phases = [new("pretrain", 20, 40, 2, 6.5, Cached: true), new("kd", 20, 10, 0.5, 0.2)],
        Models = new()
        {
            ["teacher"] = new() { Params = 1000, ParamBytes = 4000, FileBytes = 4100, Perplexity = 20, Speed = [new(1, 500, 50, 10, 20), new(8, 2000, 200, 40, 40)],
                Samples = [new("Call me", " Ishmael_*")] },
            ["student"] = new() { Params = 200, ParamBytes = 800, Perplexity = 30, Speed = [new(1, 2000, 150, 3, 6.7)] },
        },
        Kd = new("forward_kl", 1, 32, 164),
        Notes = ["a note"],
    };

    [Fact]
    public void ReportRoundTripsAsSnakeCaseJsonAndRendersMarkdownAndPlots()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ds-lm-report-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var report = SampleReport();
            report.Save(Path.Combine(dir, "report.json"));
            string json = File.ReadAllText(Path.Combine(dir, "report.json"));
            Assert.Contains("\"decode_tokens_per_second\": 150", json);
            Assert.Contains("\"param_bytes\": 4000", json);
            var back = LmReport.Load(Path.Combine(dir, "report.json"));
            Assert.Equal(30, back.Models["student"].Perplexity);
            Assert.Equal(150, back.Models["student"].DecodeTokensPerSecond(1));

            var plots = LmPlots.Write(back, new Dictionary<string, string>(), Path.Combine(dir, "plots"));
            Assert.Equal(["perplexity_vs_speed.png"], plots);
            string md = LmReportWriter.Markdown(back, plots);
            Assert.Contains($"| teacher | {DistillSharp.Reports.ReportFormat.Params(1000)} |", md);
            // 1000 / 200 = 5× fewer parameters; decode 150 / 50 = 3× faster at batch 1.
            Assert.Contains("5.00× fewer parameters", md);
            Assert.Contains("3.00× faster", md);
            Assert.Contains("| pretrain (cached) | 20 |", md);
            Assert.Contains("Ishmael\\_\\*", md);
            Assert.Contains("![perplexity_vs_speed](plots/perplexity_vs_speed.png)", md);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
