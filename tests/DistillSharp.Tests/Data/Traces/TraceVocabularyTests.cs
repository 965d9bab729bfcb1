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

    [Fact]
    public async Task ScoredCorpusBlocksFillTheCacheWithTheTeachersNextTokenTopKAndAreAskedOnce()
    {
        var docs = ServingTestKit.Texts.Concat(ServingTestKit.Texts).Concat(ServingTestKit.Texts).Select(t => ServingTestKit.DecoderTokenizer.Encode(t, false)).ToList();
        DistillSharp.Data.Decoder.PackedLmBatcher Source() => new(docs, 0, 8, 2, seed: 1);
        var picker = Source();
        var blockIds = Enumerable.Range(0, 3).SelectMany(_ => picker.Next().ExampleIds).Distinct().ToList();
        var blocks = blockIds.ToDictionary(id => id, id => picker.Block((int)id).ToArray());
        var requests = blockIds.ToDictionary(id => id, id => CorpusScoring.Request(_teacher, blocks[id], 3));
        string root = Path.Combine(Path.GetTempPath(), "ds-score-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using var store = new TraceStore(Path.Combine(root, CorpusScoring.FileName));
            using (var client = new EndpointClient(_teacher, new CollectLimits(Concurrency: 2, Retries: 0)))
            {
                var first = await TraceCollector.RunAsync(client, store, [.. requests.Values], 2);
                Assert.Equal((blockIds.Count, 0, 0, blockIds.Count * 9L), (first.Collected, first.Cached, first.Failed, first.CompletionTokens));
                var again = await TraceCollector.RunAsync(client, store, [.. requests.Values], 2);
                Assert.Equal((0, blockIds.Count, 0L), (again.Collected, again.Cached, again.Attempts));
            }
            var scores = store.All().ToDictionary(t => t.Key);
            using var cache = new SparseTeacherCache(root, "k", new SparseCacheOptions(3, LogProbPrecision.Float32, 1.0));
            TopLogprobTeacher.FillBlocks(cache, Source(), 3, id => CorpusScoring.NextTokenTops(scores[requests[id].Key], blocks[id], 3, 300), 3);
            using var reference = ServingTestKit.Decoder();
            int v = reference.Config.VocabSize;
            foreach (var batch in Source().Epoch(0).Take(3))
            {
                using var scope = NewDisposeScope();
                var sparse = cache.Assemble(batch);
                long[] ids = sparse.Ids.data<long>().ToArray();
                float[] lp = sparse.LogProbs.data<float>().ToArray();
                for (int r = 0; r < batch.BatchSize; r++)
                {
                    var logits = reference.Logits(blocks[batch.ExampleIds[r]]);      // golden: the runtime's logits of the block, log-softmax here
                    for (int i = 0; i < batch.Length; i++)
                    {
                        var row = logits.AsSpan(i * v, v).ToArray();
                        double max = row.Max(x => (double)x), logZ = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
                        long[] expected = [.. Enumerable.Range(0, v).OrderByDescending(j => row[j]).ThenBy(j => j).Take(3).Select(j => (long)j)];
                        Assert.Equal(expected, ids.AsSpan((r * batch.Length + i) * 3, 3).ToArray());
                        Assert.Equal(row[expected[0]] - logZ, lp[(r * batch.Length + i) * 3], 4);
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
