using DistillSharp.Data;
using DistillSharp.Runtime;
using DistillSharp.Config.Decoder;
using DistillSharp.Pipeline.Decoder;
using DistillSharp.Reports.Decoder;
using DistillSharp.Config;

namespace DistillSharp.Tests.Pipeline;

/// <summary>The whole LM pipeline in-process on tiny models and made-up text, --max-steps 2.</summary>
public class LmPipelineSmokeTests
{
    /// <summary>A tiny kind: lm config: every phase on, models of a few thousand parameters, benchmark of one run.</summary>
    public const string TinyYaml = """
        kind: lm
        data: { block: 16, batch: 4, heldout: 0.2 }
        tokenizer: { vocab: 300 }
        teacher:
          pretrain: { layers: 1, hidden: 32, heads: 2, kv_heads: 1, ffn: 64, train: { steps: 50, lr: 3e-3, warmup: 1 } }
        student: { layers: 1, hidden: 16, heads: 2, kv_heads: 1, ffn: 32 }
        seqkd: { prompts: 4, prompt_tokens: 8, new_tokens: 6, generate_batch: 4, train: { steps: 50, warmup: 1, batch: 2 } }
        kd: { loss: forward_kl, temperature: 2.0, top_k: 4, train: { steps: 50, warmup: 1 } }
        eval: { max_blocks: 8, max_new_tokens: 4, prompts: ["the whale", "fellow citizens"] }
        bench: { batch: [1, 2], prompt_tokens: 8, new_tokens: 3, runs: 1 }
        seed: 3
        """;

    /// <summary>Twelve short made-up documents: ten to train on, two held out.</summary>
    public static LmCorpusSplit TinyCorpus(TextWriter _)
    {
        string[] words = ["the", "whale", "ship", "sea", "captain", "citizens", "union", "state", "nation", "spoke", "sailed", "and", "of", "a"];
        var rng = new SplitMix64(11);
        LmDocument Doc(int i) => new("synthetic", $"doc{i}", string.Join(' ', Enumerable.Range(0, 120).Select(_ => words[rng.NextInt(words.Length)])) + ".");
        var docs = Enumerable.Range(0, 12).Select(Doc).ToList();
        return new LmCorpusSplit(docs.Take(10).ToList(), docs.Skip(10).ToList());
    }

    [Fact]
    public void RunsEveryPhaseAndWritesTheRunFolder()
    {
        string root = Path.Combine(Path.GetTempPath(), "ds-lm-smoke-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var config = ConfigLoader.Parse<LmRunConfig>(TinyYaml);
            var progress = new List<LmRunProgress>();
            var options = new LmRunOptions(Path.Combine(root, "run1"), 2, progress.Add, TextWriter.Null, "tiny", Path.Combine(root, "cache"), TinyCorpus);
            var first = LmPipeline.Run(config, options);

            string run = first.RunDir;
            foreach (string file in new[] { "config.yaml", "teacher.json", "tokenizer/tokenizer.json", "student/config.json", "student/model.safetensors",
                         "scratch/config.json", "seqkd.jsonl", "report.json", "report.md", "plots/loss.png", "plots/perplexity_vs_speed.png" })
                Assert.True(File.Exists(Path.Combine(run, file)), $"missing {file}");
            foreach (string phase in new[] { "pretrain", "seqkd", "kd", "scratch" })
                Assert.True(File.Exists(Path.Combine(run, "phases", phase, "metrics.jsonl")), $"missing phases/{phase}/metrics.jsonl");
            Assert.Equal(4, File.ReadAllLines(Path.Combine(run, "seqkd.jsonl")).Length);
            Assert.Equal(config.ToYaml(), File.ReadAllText(Path.Combine(run, "config.yaml")));

            var report = LmReport.Load(first.ReportPath);
            Assert.Equal(["scratch", "student", "student_int8", "teacher"], report.Models.Keys.Order());
            foreach (var (name, m) in report.Models)
            {
                Assert.True(m.Perplexity is > 1 and < 1000, $"{name} perplexity {m.Perplexity}");
                Assert.Equal([1, 2], m.Speed!.Select(s => s.Batch));
                Assert.All(m.Speed!, s => Assert.True(s.DecodeTokensPerSecond > 0 && s.PrefillTokensPerSecond > 0));
                if (name == "student_int8") continue; // the INT8 runtime: no samples or folder of its own
                Assert.Equal(2, m.Samples!.Count);
                Assert.True(m.FileBytes > 0 && m.ParamBytes == 4 * m.Params, name);
            }
            var int8 = report.Models["student_int8"];
            Assert.Equal("distillsharp-int8", int8.Runtime);
            Assert.True(int8.ParamBytes < report.Models["student"].ParamBytes, $"int8 bytes {int8.ParamBytes}");
            Assert.True(File.Exists(Path.Combine(run, "student-int8", "int8_decoder.json")) && int8.FileBytes < report.Models["student"].FileBytes, $"int8 files {int8.FileBytes}");
            Assert.InRange(int8.Perplexity!.Value / report.Models["student"].Perplexity!.Value, 0.8, 1.25);
            Assert.True(report.Models["teacher"].Params > report.Models["student"].Params);
            Assert.Equal(report.Models["student"].Params, report.Models["scratch"].Params);
            // --max-steps 2 caps every phase; the scratch student runs as many steps as seqkd + kd together.
            Assert.Equal(new Dictionary<string, long> { ["pretrain"] = 2, ["seqkd"] = 2, ["kd"] = 2, ["scratch"] = 4 },
                report.Phases.Where(p => p.Name is "pretrain" or "seqkd" or "kd" or "scratch").ToDictionary(p => p.Name, p => p.Steps));
            Assert.Equal(("forward_kl", 4), (report.Kd!.Loss, report.Kd.TopK));
            Assert.Contains("| student |", File.ReadAllText(Path.Combine(run, "report.md")));
            Assert.Equal(1.0, progress[^1].Fraction, 3);
            Assert.Contains(progress, p => p.Phase == "kd" && double.IsFinite(p.EtaSeconds));

            // The teacher went to the cache (a later run or `distill pretrain` reuses it: PretrainWritesAnHfFolderFromTheSameCache).
            Assert.True(File.Exists(Path.Combine(report.Run.TeacherCache!, "model.safetensors")));
            Assert.False(Directory.Exists(report.Run.TeacherCache + ".partial"));
            // `distill report RUN_DIR` rebuilds the same report.md from report.json.
            string md = File.ReadAllText(Path.Combine(run, "report.md"));
            Assert.True(LmPipeline.IsLmRun(run));
            LmPipeline.RewriteReport(run);
            Assert.Equal(md, File.ReadAllText(Path.Combine(run, "report.md")));
            var e = Assert.Throws<DistillSharpException>(() => LmPipeline.Run(config, options));
            Assert.Contains("already holds a run", e.Message);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void OnPolicyKdRunsThroughThePipelineOnTheStudentsOwnSamples()
    {
        string root = Path.Combine(Path.GetTempPath(), "ds-lm-onpolicy-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string yaml = TinyYaml
                .Replace("        seqkd: { prompts: 4, prompt_tokens: 8, new_tokens: 6, generate_batch: 4, train: { steps: 50, warmup: 1, batch: 2 } }\n", "")
                .Replace("kd: { loss: forward_kl, temperature: 2.0, top_k: 4,", "kd: { loss: reverse_kl, top_k: 0, on_policy: { prompts: 6, prompt_tokens: 6, new_tokens: 5 },")
                + "\nscratch: false\n";
            var config = ConfigLoader.Parse<LmRunConfig>(yaml);
            Assert.NotNull(config.Kd!.OnPolicy);
            var options = new LmRunOptions(Path.Combine(root, "run"), 2, null, TextWriter.Null, "tiny-onpolicy", Path.Combine(root, "cache"), TinyCorpus);
            var outcome = LmPipeline.Run(config, options);
            var metrics = File.ReadAllLines(Path.Combine(outcome.RunDir, "phases", "kd", "metrics.jsonl"));
            Assert.Contains("\"step\":2", metrics[^1].Replace(" ", ""));      // --max-steps 2
            Assert.Contains("reverse_kl", metrics[^1]);
            Assert.False(Directory.Exists(Path.Combine(root, "cache", "lm-kd-cache")));   // live teacher, no cache
            Assert.Contains("student", LmReport.Load(outcome.ReportPath).Models.Keys);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void PretrainWritesAnHfFolderFromTheSameCache()
    {
        string root = Path.Combine(Path.GetTempPath(), "ds-lm-pretrain-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var config = ConfigLoader.Parse<LmRunConfig>(TinyYaml);
            var options = new LmRunOptions(null, 2, null, TextWriter.Null, "tiny", Path.Combine(root, "cache"), TinyCorpus);
            var first = LmPipeline.Pretrain(config, Path.Combine(root, "t1"), options);
            Assert.False(first.Cached);
            foreach (string file in new[] { "config.json", "model.safetensors", "tokenizer.json" })
                Assert.True(File.Exists(Path.Combine(first.Folder, file)), file);
            var second = LmPipeline.Pretrain(config, Path.Combine(root, "t2"), options);
            Assert.True(second.Cached);
            Assert.Equal(first.CacheFolder, second.CacheFolder);
            var capped3 = LmPipeline.Pretrain(config, Path.Combine(root, "t3"), options with { MaxSteps = 3 });
            Assert.NotEqual(first.CacheFolder, capped3.CacheFolder);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
