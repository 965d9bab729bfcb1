using DistillSharp.Data;
using DistillSharp.Data.Decoder.Traces;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Serving;
using DistillSharp.Tests.Serving;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Data.Traces;

/// <summary>
/// The shared-vocabulary check and the sparse teacher built from returned top log-probabilities,
/// on traces collected from a real server whose tokenizer is (or is not) the student's.
/// </summary>
public sealed class TraceVocabularyTests : IAsyncLifetime
{
    ServingServer _server = null!;
    EndpointTeacher _teacher = null!;

    public async Task InitializeAsync()
    {
        _server = await ServingTestKit.StartDecoder();
        _teacher = new EndpointTeacher(_server.BaseAddress + "v1", "tiny-lm-int8");
    }

    public Task DisposeAsync() => ServingTestKit.StopAsync(_server);

    async Task<List<TeacherTrace>> Collect(TraceSampling sampling, TraceApi api = TraceApi.Completions)
    {
        string file = Path.Combine(Path.GetTempPath(), "ds-vocab-" + Guid.NewGuid().ToString("N")[..8], "traces.jsonl");
        try
        {
            using var store = new TraceStore(file);
            using var client = new EndpointClient(_teacher, new CollectLimits(Concurrency: 2, Retries: 0));
            var prompts = ServingTestKit.Texts.Take(5).Select(t => new TracePrompt(t)).ToList();
            var r = await TraceCollector.CollectAsync(client, store, _teacher, api, prompts, sampling, 2);
            Assert.Equal(5, r.Collected);
            return [.. store.All()];
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [Theory]
    [InlineData(TraceApi.Completions)]
    [InlineData(TraceApi.Chat)]
    public async Task TheServersOwnTokenizerSharesItsVocabularyAndAnotherDoesNot(TraceApi api)
    {
        var traces = await Collect(new TraceSampling(MaxTokens: 8, TopLogprobs: 4, Seed: 1), api);
        var same = TraceExamples.CheckVocabulary(traces, ServingTestKit.DecoderTokenizer, ServingTestKit.DecoderTokenizer);
        Assert.True(same.Shared, same.Reason);
        Assert.Equal(traces.Sum(t => t.Tokens!.Count), same.TokensChecked);

        // Same size, other merges: the ids spell other tokens.
        var other = BpeTrainer.Train(ServingTestKit.Texts.Concat(["whales and ships sail the open sea"]).ToList(), ServingTestKit.DecoderTokenizer.VocabSize, ["<|endoftext|>"]);
        var differs = TraceExamples.CheckVocabulary(traces, other, null);
        Assert.False(differs.Shared);
        var fileDiffers = TraceExamples.CheckVocabulary(traces, ServingTestKit.DecoderTokenizer, other);
        Assert.False(fileDiffers.Shared);
        Assert.Contains("teacher's tokenizer", fileDiffers.Reason);
    }

    [Fact]
    public async Task TokensNamedByTextCannotBeCompared()
    {
        var traces = await Collect(new TraceSampling(MaxTokens: 6, TopLogprobs: 2, TokenIds: false, Seed: 2));
        var check = TraceExamples.CheckVocabulary(traces, ServingTestKit.DecoderTokenizer, null);
        Assert.False(check.Shared);
        Assert.Contains("not token_id:N", check.Reason);
        Assert.False(TraceExamples.CheckVocabulary([], ServingTestKit.DecoderTokenizer, null).Shared);
    }

    [Fact]
    public async Task TheSparseTeacherHoldsTheReturnedTopKAndTheirTailMass()
    {
        var traces = await Collect(new TraceSampling(MaxTokens: 7, Temperature: 0.8, TopLogprobs: 5, Seed: 3));
        var kept = traces.Select(t => new KeptTrace(t, t.Text, Verbatim: true)).ToList();
        var examples = TraceExamples.Build(kept, ServingTestKit.DecoderTokenizer, sharedVocabulary: true, topK: 5);
        Assert.All(examples, e => Assert.NotNull(e.TopIds));
        Assert.Equal(traces.Select(t => t.TokenIds!), examples.Select(e => e.Example.Response));
        string root = Path.Combine(Path.GetTempPath(), "ds-topk-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            int maxLength = examples.Max(e => e.Example.Prompt.Length + e.Example.Response.Length) - 1;
            using var cache = new SparseTeacherCache(root, "k", new SparseCacheOptions(5, LogProbPrecision.Float32, 1.0));
            TopLogprobTeacher.Fill(cache, examples, maxLength, 5);
            var batch = new DistillSharp.Data.Decoder.SftBatcher(examples.Select(e => e.Example).ToList(), examples.Count, maxLength, 0).InOrder().Single();
            using var scope = NewDisposeScope();
            var sparse = cache.Assemble(batch);
            long[] ids = sparse.Ids.data<long>().ToArray();
            float[] lp = sparse.LogProbs.data<float>().ToArray(), tail = sparse.TailLogMass.data<float>().ToArray();
            for (int r = 0; r < examples.Count; r++)
            {
                int j = 0;
                for (int i = 0; i < batch.Length; i++)
                {
                    if (batch.LossMask[r * batch.Length + i] == 0) continue;
                    var top = traces[r].Top![j];
                    Assert.Equal(top.Select(a => (long)TeacherTrace.TokenId(a.Token)!.Value), ids.AsSpan((r * batch.Length + i) * 5, 5).ToArray());
                    Assert.Equal(top.Select(a => a.Logprob), lp.AsSpan((r * batch.Length + i) * 5, 5).ToArray());
                    double mass = top.Sum(a => Math.Exp(a.Logprob));            // hand formula: log(1 − Σ p)
                    Assert.Equal(Math.Log(1 - mass), tail[r * batch.Length + i], 4);
                    Assert.Equal(traces[r].TokenIds![j], (int)batch.Targets[r * batch.Length + i]);
                    j++;
                }
                Assert.Equal(traces[r].Tokens!.Count, j);
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
