// Part (b): distillation steps/s of a small student against the real all-MiniLM-L6-v2 teacher,
// once with a cold teacher-output cache (every batch runs the teacher and is written) and once warm
// (every batch is read from disk), over the same one-epoch corpus.
using DistillSharp.Config;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Config.Encoder;

static class CacheEpochs
{
    static readonly string[] Words =
    [
        "model", "student", "teacher", "learns", "small", "large", "network", "the", "a", "of", "data", "fast", "slow",
        "attention", "layer", "hidden", "state", "matches", "output", "distribution", "training", "runs", "on", "every",
        "sentence", "word", "token", "embedding", "space", "close", "far", "and", "with", "without", "memory", "time",
    ];

    public static object Run(int steps, int batch, int maxLen)
    {
        var rng = new Random(7);
        var corpus = Enumerable.Range(0, steps * batch)
            .Select(_ => string.Join(' ', Enumerable.Range(0, rng.Next(8, 40)).Select(_ => Words[rng.Next(Words.Length)]))).ToArray();
        var config = ConfigLoader.Parse<RunConfig>($$"""
            teacher: { source: builtin:all-MiniLM-L6-v2 }
            student: { layers: 2 }
            data: { corpus: bench, max_len: {{maxLen}}, batch: {{batch}} }
            stages:
              - name: align
                steps: {{steps}}
                losses: { hidden_mse: 1.0, minilm_attention: 1.0 }
                log_every: 1
            seed: 1
            """);
        string root = Directory.CreateTempSubdirectory("distillstep-").FullName;
        try
        {
            using var teacher = ModelLoader.Load("builtin:all-MiniLM-L6-v2", maxLen);
            var runs = new List<object>();
            foreach (string name in new[] { "cold", "warm" })
            {
                using var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, new StudentSpec(2), seed: 3),
                    teacher.Tokenizer, teacher.Pooling, teacher.Normalize, "student");
                string runDir = Path.Combine(root, name);
                var result = new Distiller(config.DistillPlan(), teacher, student, corpus,
                    new DistillerOptions(runDir, CacheRoot: Path.Combine(root, "cache"), ActivationStatsEvery: 0)).Run();
                var stepSeconds = MetricsLog.Read(Path.Combine(runDir, "metrics.jsonl")).Select(r => r["step_s"].GetDouble()).Order().ToList();
                runs.Add(new
                {
                    cache = name, steps = result.GlobalStep, seconds = Math.Round(result.Seconds, 1),
                    steps_per_s = Math.Round(result.GlobalStep / result.Seconds, 3),
                    median_step_s = Math.Round(stepSeconds[stepSeconds.Count / 2], 3),
                    cache_hits = result.CacheHits, cache_misses = result.CacheMisses,
                });
            }
            return runs;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
