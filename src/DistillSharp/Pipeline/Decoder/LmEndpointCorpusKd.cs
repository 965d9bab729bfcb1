using DistillSharp.Config.Decoder;
using DistillSharp.Data.Decoder;
using DistillSharp.Data.Decoder.Traces;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Models.Decoder;
using DistillSharp.Reports.Decoder;

namespace DistillSharp.Pipeline.Decoder;

public static partial class LmPipeline
{
    /// <summary>
    /// kd.on: corpus with an endpoint teacher: the blocks the kd phase will train on (its first
    /// steps × accumulate batches of training-split blocks, seeded as the in-process kd phase picks them)
    /// scored by the endpoint with echo (resumable store scores.jsonl: a rerun asks only what is
    /// missing), their top-k filling the sparse cache, then the kd phase on those blocks with the sparse
    /// KD + ce_weight CE, as with a teacher in this process. Null when the endpoint scored none of them
    /// (it refuses echo): the caller falls back to KD on the traces and the notes say why.
    /// </summary>
    static LmKdReport? RunCorpusTokenKd(LmRunConfig config, TokenKdConfig kd, SeqKdConfig seqKd, LmRunOptions options, string runDir,
        EndpointTeacher teacher, LmRunData data, CausalLm student, LmEtaTracker tracker, List<LmPhaseReport> phases, List<string> notes)
    {
        int batch = kd.Train.BatchSize(config.Data);
        long batches = LmRunPlan.KdBatches(kd, options.MaxSteps);
        PackedLmBatcher Source() => data.TrainBatcher(config.Data.Block, batch, config.Seed + 1);
        var picker = Source();
        var blockIds = new List<long>();
        var seen = new HashSet<long>();
        for (long n = 0; n < batches; n++)
            foreach (long id in picker.Next().ExampleIds)
                if (seen.Add(id)) blockIds.Add(id);
        var blocks = blockIds.ToDictionary(id => id, id => picker.Block((int)id).ToArray());
        var requests = blockIds.ToDictionary(id => id, id => CorpusScoring.Request(teacher, blocks[id], kd.TopK));

        var clock = PhaseClock.Start();
        tracker.Begin(LmRunPlan.KdScore);
        using var store = new TraceStore(Path.Combine(runDir, CorpusScoring.FileName));
        options.Log.WriteLine($"== {LmRunPlan.KdScore}: {blockIds.Count} corpus blocks of {config.Data.Block + 1} tokens → {teacher.Endpoint} "
            + $"(echo, top-{kd.TopK}); {store.Count} already in {store.Path}");
        CollectResult result;
        using (var client = new EndpointClient(teacher, seqKd.Collect.Limits))
            result = TraceCollector.RunAsync(client, store, blockIds.Select(id => requests[id]).ToList(), seqKd.Collect.Limits.Concurrency,
                (done, _) => tracker.Step(done)).GetAwaiter().GetResult();
        tracker.End();
        phases.Add(clock.Report(LmRunPlan.KdScore, result.Prompts));
        options.Log.WriteLine($"{LmRunPlan.KdScore}: {result.Collected} scored, {result.Cached} reused, {result.Failed} failed in {result.Seconds:F1} s "
            + $"({result.RequestsPerSecond:F2} requests/s, {result.TokensPerSecond:F1} tokens/s; {result.Retries} retries)");
        if (result.Cached + result.Collected == 0)
        {
            notes.Add($"kd: the endpoint scored none of {result.Prompts} corpus blocks with echo ({result.FirstError}); token-level KD ran on the traces instead.");
            options.Log.WriteLine($"{LmRunPlan.KdScore}: the endpoint does not score with echo; kd falls back to the traces");
            return null;
        }
        if (result.Failed > 0)
            throw new DistillSharpException($"{result.Failed} of {result.Prompts} corpus blocks were not scored by the teacher endpoint (first: {result.FirstError}); "
                + $"run again into {runDir}: only those are asked");

        var scores = store.All().ToDictionary(t => t.Key);
        var source = Source();
        var cacheOptions = new SparseCacheOptions(kd.TopK, LogProbPrecision.Float16, TopLogprobTeacher.Temperature);
        using var cache = new SparseTeacherCache(Path.Combine(runDir, "kd-cache"),
            SparseTeacherCache.Key(teacher.Identity + " echo", source.ContentHash, cacheOptions), cacheOptions);
        TopLogprobTeacher.FillBlocks(cache, Source(), batches,
            id => CorpusScoring.NextTokenTops(scores[requests[id].Key], blocks[id], kd.TopK, data.Tokenizer.VocabSize), kd.TopK);
        var spec = new TokenKdSpec(kd.Loss, kd.Temperature, kd.Beta, kd.Alpha);
        phases.Add(Train(LmRunPlan.Kd, "kd", student, source, kd.Train, options.MaxSteps, runDir, tracker, options.Log,
            o => o with { Kd = spec, KdWeight = 1.0, CeWeight = kd.CeWeight }, teacher: null, cache));
        notes.Add($"kd: token-level KD on {blockIds.Count} corpus blocks scored by the endpoint (echo, top-{kd.TopK}) + {kd.CeWeight} × CE; "
            + $"scoring {result.RequestsPerSecond:F2} requests/s, {result.TokensPerSecond:F0} tokens/s ({result.Collected} scored, {result.Cached} reused).");
        return new LmKdReport(kd.Loss, kd.Temperature, kd.TopK, cacheOptions.BytesPerToken);
    }
}
