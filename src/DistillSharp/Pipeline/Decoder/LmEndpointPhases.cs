using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Config.Decoder;
using DistillSharp.Data.Decoder;
using DistillSharp.Data.Decoder.Traces;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Models.Decoder;
using DistillSharp.Reports.Decoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>What `distill collect` did: the store and the collection's numbers.</summary>
public sealed record LmCollectOutcome(string TraceFile, CollectResult Result, int Stored);

public static partial class LmPipeline
{
    /// <summary>The trace store's file name in a run (or collect) folder.</summary>
    public const string TraceFileName = "traces.jsonl";

    /// <summary>
    /// `distill collect`: the config's prompts sent to its endpoint teacher, the answers appended to
    /// <paramref name="outDir"/>/traces.jsonl (resumable: a rerun into the same folder asks only what is
    /// missing; `distill run --out` on that folder reuses them). Prompts cut from the corpus need the
    /// run's tokenizer, which goes to outDir/tokenizer; a seqkd.prompts_file needs neither.
    /// </summary>
    public static LmCollectOutcome Collect(LmRunConfig config, string outDir, LmRunOptions options, Action<int, int>? progress = null,
        CancellationToken cancel = default)
    {
        var seqKd = EndpointSeqKd(config);
        string dir = Path.GetFullPath(outDir);
        Directory.CreateDirectory(dir);
        var data = seqKd.PromptsFile is null ? LoadData(config, options, dir, []).Data : null;
        using var store = new TraceStore(Path.Combine(dir, TraceFileName));
        var result = CollectTraces(config, seqKd, data, store, options, progress, cancel);
        AtomicFile.WriteText(Path.Combine(dir, "collect.json"), JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return new LmCollectOutcome(store.Path, result, store.Count);
    }

    static SeqKdConfig EndpointSeqKd(LmRunConfig config) =>
        config.Teacher.Endpoint is null || config.SeqKd is not { } s
            ? throw new DistillSharpException("distill collect needs a config with teacher.endpoint and a seqkd: section")
            : s;

    /// <summary>The sampling every request of the run sends (its key includes all of it).</summary>
    static TraceSampling Sampling(LmRunConfig config, SeqKdConfig s) =>
        new(s.NewTokens, s.Temperature, s.Collect.TopP, s.TopK, config.Kd?.TopK ?? 0, s.Collect.TokenIds, config.Seed);

    /// <summary>The prompts: seqkd.prompts_file, or seqkd.prompts windows of prompt_tokens cut from the training split (as text).</summary>
    static List<TracePrompt> EndpointPrompts(LmRunConfig config, SeqKdConfig s, LmRunData? data, long? maxSteps)
    {
        int count = LmRunPlan.SeqKdPrompts(s, maxSteps);
        if (s.PromptsFile is null)
            return data is null ? throw new ArgumentNullException(nameof(data), "prompts cut from the corpus need the run's data")
                : SeqKdDataset.Prompts(data.Train, count, s.PromptTokens, config.Seed).Select(ids => new TracePrompt(data.Tokenizer.Decode(ids))).ToList();
        if (!File.Exists(s.PromptsFile)) throw new DistillSharpException($"seqkd.prompts_file {s.PromptsFile} does not exist");
        var prompts = new List<TracePrompt>();
        int line = 0;
        foreach (string text in File.ReadLines(s.PromptsFile))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonObject o;
            try
            {
                o = JsonNode.Parse(text) as JsonObject ?? throw new DistillSharpException($"{s.PromptsFile} line {line}: expected a JSON object");
            }
            catch (JsonException e)
            {
                throw new DistillSharpException($"{s.PromptsFile} line {line}: {e.Message}");
            }
            string prompt = o["prompt"] is JsonValue p && p.TryGetValue(out string? ps) && ps.Length > 0 ? ps
                : throw new DistillSharpException($"{s.PromptsFile} line {line}: 'prompt' (a non-empty string) is missing");
            string? answer = o["answer"] is JsonValue a && a.TryGetValue(out string? av) ? av : null;
            prompts.Add(new TracePrompt(prompt, answer));
            if (prompts.Count == count) break;
        }
        return prompts.Count > 0 ? prompts : throw new DistillSharpException($"seqkd.prompts_file {s.PromptsFile} has no prompt");
    }

    static CollectResult CollectTraces(LmRunConfig config, SeqKdConfig s, LmRunData? data, TraceStore store, LmRunOptions options,
        Action<int, int>? progress, CancellationToken cancel)
    {
        var teacher = config.Teacher.Endpoint!;
        var prompts = EndpointPrompts(config, s, data, options.MaxSteps);
        options.Log.WriteLine($"== collect: {prompts.Count} prompts → {teacher.Endpoint} ({s.Collect.Api.ToString().ToLowerInvariant()}, model {teacher.Model}); "
            + $"{store.Count} traces already in {store.Path}" + (store.TornBytes > 0 ? $" (a torn last line of {store.TornBytes} bytes was dropped)" : ""));
        using var client = new EndpointClient(teacher, s.Collect.Limits);
        var result = TraceCollector.CollectAsync(client, store, teacher, s.Collect.Api, prompts, Sampling(config, s), s.Collect.Limits.Concurrency,
            progress, cancel).GetAwaiter().GetResult();
        options.Log.WriteLine($"collect: {result.Collected} collected, {result.Cached} reused, {result.Failed} failed in {result.Seconds:F1} s "
            + $"({result.RequestsPerSecond:F2} requests/s, {result.TokensPerSecond:F1} tokens/s; {result.Retries} retries: {result.Throttled} × 429, "
            + $"{result.ServerErrors} × 5xx, {result.Dropped} dropped, {result.Timeouts} timeouts)");
        if (result.Failed > 0 && result.Cached + result.Collected == 0)
            throw new DistillSharpException($"the teacher endpoint answered none of {result.Prompts} requests: {result.FirstError}");
        if (result.Failed > 0) options.Log.WriteLine($"collect: {result.Failed} requests failed (first: {result.FirstError}); a rerun asks them again");
        return result;
    }

    /// <summary>
    /// The endpoint teacher's phases: collect (resumable) → filters → SFT of the student on the kept
    /// traces (the sequence-KD phase) → token-level KD when kd: is set and the vocabulary check passes
    /// (else the run says it stayed sequence-level): on corpus blocks the endpoint scores (kd.on: corpus;
    /// the traces when it refuses echo) or on the traces' own top log-probabilities.
    /// </summary>
    static (LmSeqKdReport SeqKd, LmKdReport? Kd, LmTraceReport Traces) RunEndpoint(LmRunConfig config, SeqKdConfig seqKd, LmRunOptions options,
        string runDir, LmRunData data, DecoderTokenizer? teacherTokenizer, CausalLm student, LmEtaTracker tracker, List<LmPhaseReport> phases,
        List<string> notes)
    {
        var teacher = config.Teacher.Endpoint!;
        var clock = PhaseClock.Start();
        tracker.Begin(LmRunPlan.Generate);
        using var store = new TraceStore(Path.Combine(runDir, TraceFileName));
        var collect = CollectTraces(config, seqKd, data, store, options, (done, _) => tracker.Step(done), CancellationToken.None);
        tracker.End();
        phases.Add(clock.Report(LmRunPlan.Generate, collect.Prompts));

        var sampling = Sampling(config, seqKd);
        var keys = EndpointPrompts(config, seqKd, data, options.MaxSteps).Select(p => OpenAiWire.Key(teacher, seqKd.Collect.Api, p.Text, sampling)).ToHashSet();
        var traces = store.All().Where(t => keys.Contains(t.Key)).ToList();
        var (kept, filters) = TraceFilter.Apply(traces, seqKd.Filter, text => data.Tokenizer.Encode(text).Length);
        options.Log.WriteLine($"filters: {filters.Input} traces; removed {string.Join(", ", filters.Removed.Select(r => $"{r.Value} {r.Key}"))}; {filters.Kept} kept");
        var vocabulary = config.Kd is null ? null : TraceExamples.CheckVocabulary(traces, data.Tokenizer, teacherTokenizer);
        bool tokenKd = vocabulary?.Shared == true;
        var examples = TraceExamples.Build(kept, data.Tokenizer, tokenKd, config.Kd?.TopK ?? 0);
        if (examples.Count == 0)
            throw new DistillSharpException($"no trace survived the filters ({string.Join(", ", filters.Removed.Select(r => $"{r.Value} {r.Key}"))}); relax seqkd.filter");
        SftExample.WriteJsonl(Path.Combine(runDir, "seqkd.jsonl"), examples.Select(e => e.Example));
        int maxLength = Math.Min(MaxPositions(config) - 1, examples.Max(e => e.Example.Prompt.Length + e.Example.Response.Length) - 1);

        int batch = Math.Min(seqKd.Train.BatchSize(config.Data), examples.Count);
        var sft = new SftBatcher(examples.Select(e => e.Example).ToList(), batch, maxLength, (ulong)config.Seed);
        phases.Add(Train(LmRunPlan.SeqKd, "sft", student, sft, seqKd.Train, options.MaxSteps, runDir, tracker, options.Log));

        LmKdReport? kdReport = null;
        string verdict = vocabulary?.Reason ?? "no kd: section";
        if (config.Kd is { } kd)
        {
            var kdExamples = examples.Where(e => e.TopIds is not null).ToList();
            if (tokenKd && kd.On == KdData.Corpus)
                kdReport = RunCorpusTokenKd(config, kd, seqKd, options, runDir, teacher, data, student, tracker, phases, notes);
            if (kdReport is not null) verdict = vocabulary!.Reason;
            else if (tokenKd && kdExamples.Count > 0)
            {
                kdReport = RunTraceTokenKd(config, kd, options, runDir, teacher, kdExamples, maxLength, student, tracker, phases);
                notes.Add($"kd: token-level KD on the endpoint's top-{kd.TopK} log-probabilities of {kdExamples.Count} traces; vocabulary check: {verdict}.");
            }
            else
            {
                if (tokenKd) verdict = "no kept trace is verbatim with full top-k log-probabilities";
                tokenKd = false;
                notes.Add($"kd: sequence-level KD only — token-level KD needs the teacher's vocabulary, and {verdict}.");
                options.Log.WriteLine($"kd: skipped, sequence-level only: {verdict}");
            }
        }
        var traceReport = new LmTraceReport(teacher.Endpoint, teacher.Model, seqKd.Collect.Api.ToString().ToLowerInvariant(), TraceFileName, collect.Prompts,
            collect.Cached, collect.Collected, collect.Failed, Math.Round(collect.Seconds, 2), Math.Round(collect.RequestsPerSecond, 3),
            Math.Round(collect.TokensPerSecond, 2), collect.Retries, filters.Removed, filters.Kept, tokenKd, verdict);
        long responseTokens = examples.Sum(e => (long)e.Example.Response.Length);
        return (new LmSeqKdReport(examples.Count, responseTokens, Math.Round(collect.Seconds, 2), "seqkd.jsonl"), kdReport, traceReport);
    }

    static LmKdReport RunTraceTokenKd(LmRunConfig config, TokenKdConfig kd, LmRunOptions options, string runDir, EndpointTeacher teacher,
        List<TraceExample> examples, int maxLength, CausalLm student, LmEtaTracker tracker, List<LmPhaseReport> phases)
    {
        var sftExamples = examples.Select(e => e.Example).ToList();
        int batch = Math.Min(kd.Train.BatchSize(config.Data), examples.Count);
        var source = new SftBatcher(sftExamples, batch, maxLength, (ulong)config.Seed + 1);
        var cacheOptions = new SparseCacheOptions(kd.TopK, LogProbPrecision.Float16, TopLogprobTeacher.Temperature);
        using var cache = new SparseTeacherCache(Path.Combine(runDir, "kd-cache"), SparseTeacherCache.Key(teacher.Identity, source.ContentHash, cacheOptions), cacheOptions);
        TopLogprobTeacher.Fill(cache, examples, maxLength, kd.TopK);
        var spec = new TokenKdSpec(kd.Loss, kd.Temperature, kd.Beta, kd.Alpha);
        phases.Add(Train(LmRunPlan.Kd, "kd", student, source, kd.Train, options.MaxSteps, runDir, tracker, options.Log,
            o => o with { Kd = spec, KdWeight = 1.0, CeWeight = kd.CeWeight }, teacher: null, cache));
        return new LmKdReport(kd.Loss, kd.Temperature, kd.TopK, cacheOptions.BytesPerToken);
    }
}
