using DistillSharp.Data.Decoder;

namespace DistillSharp.Tests.LanguageModels;

public sealed class BatcherTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "ds-batch-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static readonly int[][] Docs = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10], [11, 12, 13, 14, 15]];
    const int Eos = 0;

    [Fact]
    public void PackingConcatenatesWithEosAndShiftsTargets()
    {
        var batcher = new PackedLmBatcher(Docs, Eos, blockLength: 4, batchSize: 2, seed: 1);
        // Stream: 1 2 3 0 4 5 0 6 7 8 9 0 10 0 11 12 13 14 15 0 → 20 tokens, (20 − 1) / 4 = 4 blocks.
        Assert.Equal(20, batcher.StreamTokens);
        Assert.Equal(4, batcher.Blocks);
        Assert.Equal([4, 5, 0, 6, 7], batcher.Block(1).ToArray());   // stream[4 .. 8]
        var batch = batcher.Next();
        for (int r = 0; r < 2; r++)
        {
            var block = batcher.Block((int)batch.ExampleIds[r]).ToArray();
            Assert.Equal(block[..4].Select(i => (long)i), batch.InputIds.Skip(r * 4).Take(4));
            Assert.Equal(block[1..].Select(i => (long)i), batch.Targets.Skip(r * 4).Take(4));
        }
        Assert.Equal(8, batch.ScoredTokens);
    }

    [Fact]
    public void OrderIsAFunctionOfSeedAndEpochAndResumesExactly()
    {
        var docs = Enumerable.Range(0, 40).Select(i => Enumerable.Range(i * 10, 7).ToArray()).ToList();
        var a = new PackedLmBatcher(docs, 1, 5, 3, seed: 42);
        var all = Enumerable.Range(0, 2 * a.BatchesPerEpoch + 3).Select(_ => a.Next()).ToList();
        var again = new PackedLmBatcher(docs, 1, 5, 3, seed: 42);
        Assert.All(all, b => Assert.Equal(b.InputIds, again.Next().InputIds));
        Assert.Equal(a.ContentHash, again.ContentHash);
        Assert.NotEqual(a.ShuffledBlocks(0), a.ShuffledBlocks(1));
        Assert.NotEqual(a.ShuffledBlocks(0), new PackedLmBatcher(docs, 1, 5, 3, seed: 43).ShuffledBlocks(0));
        Assert.Equal(Enumerable.Range(0, a.Blocks), a.ShuffledBlocks(0).Order());
        // Saved position → a fresh batcher continues with the very next batch.
        var b = new PackedLmBatcher(docs, 1, 5, 3, seed: 42);
        for (int i = 0; i < a.BatchesPerEpoch + 1; i++) b.Next();
        var resumed = new PackedLmBatcher(docs, 1, 5, 3, seed: 42, start: b.Position);
        Assert.Equal(all[a.BatchesPerEpoch + 1].InputIds, resumed.Next().InputIds);
    }

    [Fact]
    public void TooLittleTextIsAClearError()
    {
        var e = Assert.Throws<DistillSharpException>(() => new PackedLmBatcher([[1, 2]], 0, 8, 1, 1));
        Assert.Contains("fewer than one batch", e.Message);
    }

    [Fact]
    public void SftBatchesScoreOnlyResponseTargetsAndPadRight()
    {
        var examples = new List<SftExample> { new([5, 6, 7], [8, 9]), new([5], [3, 4, 2]) };
        var batch = new SftBatcher(examples, batchSize: 2, maxLength: 16, seed: 0).InOrder().Single();
        Assert.Equal(4, batch.Length);                                    // longest: 5 tokens → 4 positions
        // Example 0: inputs 5 6 7 8, targets predicted 6 7 8 9, scored where the target is a response token (8, 9).
        Assert.Equal([5L, 6, 7, 8], batch.InputIds[..4]);
        Assert.Equal([0L, 0, 8, 9], batch.Targets[..4]);
        Assert.Equal([0L, 0, 1, 1], batch.LossMask[..4]);
        Assert.Equal([1L, 1, 1, 1], batch.AttentionMask[..4]);
        // Example 1: inputs 5 3 4 (+ pad), targets 3 4 2, all responses.
        Assert.Equal([5L, 3, 4, 0], batch.InputIds[4..]);
        Assert.Equal([3L, 4, 2, 0], batch.Targets[4..]);
        Assert.Equal([1L, 1, 1, 0], batch.LossMask[4..]);
        Assert.Equal([1L, 1, 1, 0], batch.AttentionMask[4..]);
    }

    [Fact]
    public void SftTruncatesFromTheRightAndRejectsPromptsWithoutRoom()
    {
        var batch = new SftBatcher([new SftExample([1, 2], [3, 4, 5, 6])], 1, maxLength: 3, seed: 0).Next();
        Assert.Equal([1L, 2, 3], batch.InputIds);
        Assert.Equal([0L, 1, 1], batch.LossMask);
        var e = Assert.Throws<DistillSharpException>(() => new SftBatcher([new SftExample([1, 2, 3, 4], [5])], 1, 3, 0));
        Assert.Contains("max length 3", e.Message);
    }

    [Fact]
    public void SftJsonlRoundTripsAndNamesBadLines()
    {
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "sft.jsonl");
        var examples = new List<SftExample> { new([1, 2], [3], "Q: hi", "A"), new([4], [5, 6]) };
        SftExample.WriteJsonl(path, examples);
        string[] lines = File.ReadAllLines(path);
        Assert.Equal("""{"prompt":"Q: hi","response":"A","prompt_ids":[1,2],"response_ids":[3]}""", lines[0]);
        Assert.Equal("""{"prompt_ids":[4],"response_ids":[5,6]}""", lines[1]);
        var read = SftExample.ReadJsonl(path);
        Assert.Equal(examples.Select(e => (e.PromptText, string.Join(",", e.Prompt), string.Join(",", e.Response))),
            read.Select(e => (e.PromptText, string.Join(",", e.Prompt), string.Join(",", e.Response))));
        File.AppendAllText(path, "{\"prompt\": \"no ids\"}\n");
        Assert.Contains("line 3", Assert.Throws<DistillSharpException>(() => SftExample.ReadJsonl(path)).Message);
    }
}
