using DistillSharp.Config;
using DistillSharp.Config.Decoder;
using DistillSharp.Pipeline.Decoder;
using DistillSharp.Reports.Decoder;
using DistillSharp.Serving;
using DistillSharp.Tests.Serving;
using DistillSharp.Tests.Config;

namespace DistillSharp.Tests.Pipeline;

/// <summary>
/// The LM pipeline with its teacher behind a real server on loopback (the tiny INT8 decoder of
/// <see cref="ServingTestKit"/>): collect → filter → SFT → token KD from the returned top-k when the
/// student has the server's tokenizer, sequence-level only (and saying so) when it does not; and
/// `distill collect` resuming into the same folder.
/// </summary>
public sealed class LmEndpointPipelineTests : IAsyncLifetime
{
    ServingServer _server = null!;
    string _root = null!;

    public async Task InitializeAsync()
    {
        _server = await ServingTestKit.StartDecoder();
        _root = Path.Combine(Path.GetTempPath(), "ds-lm-endpoint-" + Guid.NewGuid().ToString("N")[..8]);
        ServingTestKit.DecoderTokenizer.Save(Path.Combine(_root, "teacher-tokenizer"));
    }

    public async Task DisposeAsync()
    {
        await ServingTestKit.StopAsync(_server);
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    string Yaml(bool teacherTokenizer, string kdOn = "", string? endpoint = null) => $"""
        kind: lm
        data: {"{"} block: 16, batch: 4, heldout: 0.2 {"}"}
        tokenizer: {"{"} vocab: 300 {"}"}
        teacher:
          endpoint: "{endpoint ?? _server.BaseAddress + "v1"}"
          model: tiny-lm-int8
        {(teacherTokenizer ? $"  tokenizer: \"{Path.Combine(_root, "teacher-tokenizer")}\"" : "")}
        student: {"{"} layers: 1, hidden: 16, heads: 2, kv_heads: 1, ffn: 32 {"}"}
        seqkd:
          prompts: 6
          prompt_tokens: 6
          new_tokens: 6
          generate_batch: 3
          collect: {"{"} concurrency: 2, retries: 2, backoff: 0.05 {"}"}
          filter: {"{"} min_tokens: 1 {"}"}
          train: {"{"} steps: 50, warmup: 1, batch: 2 {"}"}
        kd: {"{"} {kdOn}top_k: 3, train: {"{"} steps: 50, warmup: 1, batch: 2 {"}"} {"}"}
        eval: {"{"} max_blocks: 8, max_new_tokens: 4, prompts: ["the whale"] {"}"}
        bench: {"{"} batch: [1], prompt_tokens: 4, new_tokens: 2, runs: 1 {"}"}
        seed: 4
        """;

    LmRunOptions Options(string dir) => new(Path.Combine(_root, dir), 2, null, TextWriter.Null, "tiny-endpoint", Path.Combine(_root, "cache"),
        LmPipelineSmokeTests.TinyCorpus);

    [Fact]
    public void SharedVocabularyRunsSftThenTokenKdOnTheReturnedTopK()
    {
        var config = ConfigLoader.Parse<LmRunConfig>(Yaml(teacherTokenizer: true));
        var outcome = LmPipeline.Run(config, Options("shared"));
        var report = LmReport.Load(outcome.ReportPath);
        var traces = report.Traces!;
        Assert.True(traces.TokenKd, traces.Vocabulary);
        Assert.Equal((6, 6, 0), (traces.Prompts, traces.Collected, traces.Failed));   // --max-steps 2 × generate_batch 3
        Assert.Equal(6, File.ReadAllLines(Path.Combine(outcome.RunDir, "traces.jsonl")).Length);
        Assert.Equal(traces.Kept, File.ReadAllLines(Path.Combine(outcome.RunDir, "seqkd.jsonl")).Length);
        Assert.Equal(["scratch", "student", "student_int8"], report.Models.Keys.Order());    // the teacher is not in this process
        Assert.Contains(report.Phases, p => p.Name == "kd" && p.Steps == 2);
        Assert.Contains(report.Phases, p => p.Name == "seqkd" && p.Steps == 2);
        Assert.Contains(report.Notes, n => n.Contains("token-level KD on the endpoint's top-3"));
        Assert.Contains("Token-level KD on the returned top log-probabilities", File.ReadAllText(Path.Combine(outcome.RunDir, "report.md")));
        Assert.True(Directory.EnumerateFiles(Path.Combine(outcome.RunDir, "kd-cache"), "data.bin", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void CorpusKdScoresTheKdPhasesBlocksWithEchoOnceEach()
    {
        var config = ConfigLoader.Parse<LmRunConfig>(Yaml(teacherTokenizer: true, kdOn: "on: corpus, "));
        var outcome = LmPipeline.Run(config, Options("corpus"));
        var report = LmReport.Load(outcome.ReportPath);
        Assert.True(report.Traces!.TokenKd, report.Traces.Vocabulary);
        // --max-steps 2 × batch 2: the kd phase trains on 4 blocks of 16 + 1 tokens, each scored by one request.
        Assert.Contains(report.Phases, p => p.Name == "kd-score" && p.Steps == 4);
        Assert.Contains(report.Phases, p => p.Name == "kd" && p.Steps == 2);
        var scores = File.ReadAllLines(Path.Combine(outcome.RunDir, "scores.jsonl"))
            .Select(l => System.Text.Json.JsonSerializer.Deserialize<DistillSharp.Data.Decoder.Traces.TeacherTrace>(l, DistillSharp.Data.Decoder.Traces.TraceStore.Json)!).ToList();
        Assert.Equal(4, scores.Count);
        Assert.Equal(4, scores.Select(s => s.Key).Distinct().Count());
        Assert.All(scores, s => Assert.Equal(17, s.TokenIds!.Length));
        Assert.All(scores, s => Assert.True(float.IsNaN(s.TokenLogprobs![0]) && s.Top![0].Count == 0 && s.Top.Skip(1).All(t => t.Count == 3)));
        Assert.Contains(report.Notes, n => n.Contains("token-level KD on 4 corpus blocks scored by the endpoint (echo, top-3)"));
    }

    [Fact]
    public async Task AnEndpointRefusingEchoFallsBackToKdOnTheTracesAndSaysSo()
    {
        // Requests 1–6 are the traces (--max-steps 2 × generate_batch 3); every later one (the scoring) is refused with a 422.
        await using var proxy = await DistillSharp.Tests.Data.Traces.FaultProxy.StartAsync(_server.BaseAddress,
            n => n > 6 ? DistillSharp.Tests.Data.Traces.Fault.Refuse : DistillSharp.Tests.Data.Traces.Fault.None);
        var config = ConfigLoader.Parse<LmRunConfig>(Yaml(teacherTokenizer: true, kdOn: "on: corpus, ", endpoint: proxy.Endpoint));
        var outcome = LmPipeline.Run(config, Options("refused"));
        var report = LmReport.Load(outcome.ReportPath);
        Assert.True(report.Traces!.TokenKd);
        Assert.Contains(report.Phases, p => p.Name == "kd" && p.Steps == 2);
        Assert.Contains(report.Notes, n => n.Contains("scored none of 4 corpus blocks with echo") && n.Contains("echo is not supported"));
        Assert.Contains(report.Notes, n => n.Contains("token-level KD on the endpoint's top-3 log-probabilities"));
        Assert.Equal(10, proxy.Requests);                 // a 422 is not retried
    }

    [Fact]
    public void AnotherVocabularyStaysSequenceLevelAndSaysSo()
    {
        var config = ConfigLoader.Parse<LmRunConfig>(Yaml(teacherTokenizer: false));
        var outcome = LmPipeline.Run(config, Options("own-bpe"));
        var report = LmReport.Load(outcome.ReportPath);
        Assert.False(report.Traces!.TokenKd);
        Assert.DoesNotContain(report.Phases, p => p.Name == "kd");
        Assert.Contains(report.Phases, p => p.Name == "seqkd");
        Assert.Contains(report.Notes, n => n.Contains("sequence-level KD only"));
    }

    [Fact]
    public void CollectCommandResumesIntoTheSameFolder()
    {
        // Prompts from a file: `distill collect` then needs no corpus (and no tokenizer).
        string promptsFile = Path.Combine(_root, "prompts.jsonl");
        File.WriteAllLines(promptsFile, ServingTestKit.Texts.Select(t => System.Text.Json.JsonSerializer.Serialize(new { prompt = t })));
        string configPath = Path.Combine(_root, "endpoint.yaml");
        File.WriteAllText(configPath, Yaml(teacherTokenizer: true).Replace("  generate_batch: 3\n", $"  generate_batch: 3\n  prompts_file: \"{promptsFile}\"\n"));
        string outDir = Path.Combine(_root, "collect");
        var first = CliHarness.Run("collect", configPath, "--out", outDir, "--max-steps", "1");
        Assert.True(first.Code == 0, first.Error);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(outDir, "traces.jsonl")).Length);
        var second = CliHarness.Run("collect", configPath, "--out", outDir, "--max-steps", "2");
        Assert.True(second.Code == 0, second.Error);
        Assert.Contains("(3 new, 3 reused, 0 failed)", second.Output);
        Assert.Equal(6, File.ReadAllLines(Path.Combine(outDir, "traces.jsonl")).Length);
        var bad = CliHarness.Run("collect", Path.Combine(RepoPaths.Root(), "configs", "lm-default.yaml"), "--out", outDir);
        Assert.Equal(2, bad.Code);
        Assert.Contains("teacher.endpoint", bad.Error);
    }
}
