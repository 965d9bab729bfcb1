using DistillSharp.Diagnostics;
using DistillSharp.Data.Decoder;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Models.Decoder;
using DistillSharp.Evaluation.Decoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Models.Decoder.Generation;
using DistillSharp.Runtime.Decoder.Generation;
using static TorchSharp.torch;
using DistillSharp.Reports.Decoder;
using DistillSharp.Config.Decoder;
using DistillSharp.Benchmarks.Decoder;
using DistillSharp.Config;

namespace DistillSharp.Pipeline.Decoder;

public static partial class LmPipeline
{
    /// <summary>Teacher responses → seqkd.jsonl → SFT of the student on the response tokens.</summary>
    static LmSeqKdReport RunSeqKd(LmRunConfig config, SeqKdConfig seqKd, LmRunOptions options, string runDir, LmRunData data,
        CausalLm teacher, CausalLm student, LmEtaTracker tracker, List<LmPhaseReport> phases)
    {
        var clock = PhaseClock.Start();
        tracker.Begin(LmRunPlan.Generate);
        int promptCount = LmRunPlan.SeqKdPrompts(seqKd, options.MaxSteps);
        options.Log.WriteLine($"== {LmRunPlan.Generate}: the teacher continues {promptCount} prompts of {seqKd.PromptTokens} tokens by {seqKd.NewTokens}");
        var prompts = SeqKdDataset.Prompts(data.Train, promptCount, seqKd.PromptTokens, config.Seed);
        var (examples, seconds) = SeqKdDataset.Generate(teacher, data.Tokenizer, prompts, seqKd, config.Seed,
            done => tracker.Step((done + seqKd.GenerateBatch - 1) / seqKd.GenerateBatch));
        tracker.End();
        string file = Path.Combine(runDir, "seqkd.jsonl");
        SftExample.WriteJsonl(file, examples);
        long responseTokens = examples.Sum(e => (long)e.Response.Length);
        phases.Add(clock.Report(LmRunPlan.Generate, (prompts.Count + seqKd.GenerateBatch - 1) / seqKd.GenerateBatch));

        int batch = Math.Min(seqKd.Train.BatchSize(config.Data), examples.Count);
        var sft = new SftBatcher(examples, batch, seqKd.PromptTokens + seqKd.NewTokens, (ulong)config.Seed);
        phases.Add(Train(LmRunPlan.SeqKd, "sft", student, sft, seqKd.Train, options.MaxSteps, runDir, tracker, options.Log));
        return new LmSeqKdReport(examples.Count, responseTokens, Math.Round(seconds, 2), "seqkd.jsonl");
    }

    /// <summary>Token-level KD on the training blocks against the teacher (through the sparse top-k cache when kd.top_k &gt; 0).</summary>
    static LmKdReport RunTokenKd(LmRunConfig config, TokenKdConfig kd, LmRunOptions options, string runDir, string cacheRoot, LmRunData data,
        LmTeacher teacher, CausalLm student, LmEtaTracker tracker, List<LmPhaseReport> phases)
    {
        ILmBatchSource batcher = kd.OnPolicy is { } onPolicy
            ? OnPolicySource(onPolicy, kd.Train.BatchSize(config.Data), config.Seed, data, student)
            : data.TrainBatcher(config.Data.Block, kd.Train.BatchSize(config.Data), config.Seed + 1);
        SparseTeacherCache? cache = null;
        var cacheOptions = new SparseCacheOptions(Math.Min(Math.Max(kd.TopK, 1), data.Tokenizer.VocabSize), LogProbPrecision.Float16, kd.Temperature);
        if (kd.TopK > 0 && kd.OnPolicy is null)
        {
            cache = new SparseTeacherCache(Path.Combine(cacheRoot, "lm-kd-cache"), SparseTeacherCache.Key(teacher.Identity, batcher.ContentHash, cacheOptions), cacheOptions);
        }
        try
        {
            var teacherModel = teacher.Model;
            Func<Tensor, Tensor, Tensor> teacherLogits = (ids, mask) =>
            {
                using var noGrad = no_grad();
                return teacherModel.Forward(ids, mask).Logits;
            };
            var spec = new TokenKdSpec(kd.Loss, kd.Temperature, kd.Beta, kd.Alpha);
            phases.Add(Train(LmRunPlan.Kd, "kd", student, batcher, kd.Train, options.MaxSteps, runDir, tracker, options.Log,
                o => o with { Kd = spec, KdWeight = 1.0, CeWeight = kd.CeWeight }, teacherLogits, cache));
            return new LmKdReport(kd.Loss, kd.Temperature, kd.TopK, cache is null ? null : cacheOptions.BytesPerToken);
        }
        finally
        {
            cache?.Dispose();
        }
    }

    /// <summary>
    /// Batches of the student's own samples (on-policy KD): prompts cut from the training text, each
    /// continued by the student as it is at that step (sampling at the configured temperature, seeded
    /// per step, so a resumed run samples the same), then scored against the live teacher.
    /// </summary>
    static OnPolicyBatchSource OnPolicySource(OnPolicyConfig onPolicy, int batch, int seed, LmRunData data, CausalLm student)
    {
        var prompts = SeqKdDataset.Prompts(data.Train, onPolicy.Prompts, onPolicy.PromptTokens, seed + 2);
        var generator = new TextGenerator(student, data.Tokenizer);
        IReadOnlyList<int[]> Sample(IReadOnlyList<int[]> batchPrompts, ulong sampleSeed)
        {
            bool wasTraining = student.training;
            try
            {
                var options = new GenerationOptions { MaxNewTokens = onPolicy.NewTokens, Temperature = onPolicy.Temperature, Seed = sampleSeed };
                return generator.GenerateIds(batchPrompts, options).Select(r => r.GeneratedIds).ToList();
            }
            finally
            {
                student.train(wasTraining);
            }
        }
        return new OnPolicyBatchSource(prompts, Sample, batch, onPolicy.PromptTokens + onPolicy.NewTokens, (ulong)seed + 3);
    }

    /// <summary>Perplexity, samples, speed and memory of every model.</summary>
    static Dictionary<string, LmModelReport> Measure(LmRunConfig config, LmRunData data, List<(string Name, CausalLm Model, string Folder)> models,
        LmEtaTracker tracker, List<LmPhaseReport> phases, TextWriter log)
    {
        var reports = new Dictionary<string, LmModelReport>();
        var heldOut = data.HeldOutBatches(config.Data.Block, config.Eval.MaxBlocks);
        var clock = PhaseClock.Start();
        tracker.Begin(LmRunPlan.Evaluate);
        for (int i = 0; i < models.Count; i++)
        {
            var (name, model, folder) = models[i];
            reports[name] = LmModelMeasurer.Quality(model, data.Tokenizer, heldOut, config.Eval, folder);
            log.WriteLine($"{name}: held-out perplexity {reports[name].Perplexity:F2} over {reports[name].HeldoutTokens:N0} tokens");
            tracker.Step(i + 1);
        }
        tracker.End();
        phases.Add(clock.Report(LmRunPlan.Evaluate, models.Count));

        clock = PhaseClock.Start();
        tracker.Begin(LmRunPlan.Bench);
        var benchTokens = data.HeldOut.SelectMany(d => d).Concat(data.Train.SelectMany(d => d)).Take(config.Bench.PromptTokens * 16).ToList();
        for (int i = 0; i < models.Count; i++)
        {
            var (name, model, folder) = models[i];
            using var target = new TorchDecoderBenchTarget(model, data.Tokenizer);
            reports[name] = reports[name] with
            {
                Runtime = target.Runtime,
                Speed = DecoderSpeedBench.Measure(target, config.Bench, benchTokens),
                RssDeltaBytes = LmModelMeasurer.RssDelta(folder, benchTokens, config.Bench.PromptTokens),
                Folder = folder,
            };
            log.WriteLine($"{name}: decode {reports[name].DecodeTokensPerSecond(1):F1} tokens/s at batch 1");
            tracker.Step(i + 1);
        }
        foreach (var (variant, factory) in DecoderBenchRuntimes.Student)
        {
            var studentFolder = models.First(m => m.Name == "student").Folder;
            using var target = factory(studentFolder, get_num_threads());
            reports[variant] = reports["student"] with
            {
                Runtime = target.Runtime, Speed = DecoderSpeedBench.Measure(target, config.Bench, benchTokens),
                Perplexity = null, HeldoutTokens = null, Samples = null, FileBytes = null, RssDeltaBytes = null,
            };
            if (target is Int8DecoderBenchTarget int8)
            {
                var ppl = Perplexity.Evaluate(Int8DecoderPerplexity.Logits(int8.Decoder), heldOut);
                string int8Dir = Path.Combine(Path.GetDirectoryName(studentFolder)!, Int8DecoderFile.RunSubfolder); // run/student-int8
                int8.Decoder.Save(int8Dir);
                reports[variant] = reports[variant] with
                {
                    Perplexity = Math.Round(ppl.Perplexity, 3), HeldoutTokens = ppl.Tokens, ParamBytes = int8.Decoder.ModelBytes,
                    FileBytes = Int8DecoderFile.Bytes(int8Dir), Folder = int8Dir,
                };
                log.WriteLine($"{variant}: held-out perplexity {ppl.Perplexity:F2}, decode {reports[variant].DecodeTokensPerSecond(1):F1} tokens/s at batch 1");
            }
        }
        tracker.End();
        NativeMemory.Trim();
        phases.Add(clock.Report(LmRunPlan.Bench, models.Count));
        return reports;
    }

    /// <summary>True when <paramref name="runDir"/> is an LM run folder (its config.yaml says kind: lm).</summary>
    public static bool IsLmRun(string runDir) => ConfigKinds.FileIs(Path.Combine(runDir, "config.yaml"), ConfigKinds.Lm);

    /// <summary>`distill report` of an LM run: report.md and plots/ again from report.json and phases/*/metrics.jsonl.</summary>
    public static IReadOnlyList<string> RewriteReport(string runDir)
    {
        string reportPath = Path.Combine(runDir, "report.json");
        if (!File.Exists(reportPath)) throw new DistillSharpException($"{runDir} has no report.json to rebuild the report from");
        var report = LmReport.Load(reportPath);
        WriteReport(runDir, report, report.Phases);
        return [Path.Combine(runDir, "report.md"), Path.Combine(runDir, "plots")];
    }

    static string WriteReport(string runDir, LmReport report, IReadOnlyList<LmPhaseReport> phases)
    {
        string reportPath = Path.Combine(runDir, "report.json");
        report.Save(reportPath);
        var metrics = phases.Select(p => p.Name)
            .Select(name => (name, Path.Combine(runDir, "phases", name, "metrics.jsonl")))
            .Where(x => File.Exists(x.Item2)).ToDictionary(x => x.name, x => x.Item2);
        var plots = LmPlots.Write(report, metrics, Path.Combine(runDir, "plots"));
        AtomicFile.WriteText(Path.Combine(runDir, "report.md"), LmReportWriter.Markdown(report, plots));
        return reportPath;
    }
}
