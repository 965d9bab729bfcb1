using DistillSharp.Data;
using DistillSharp.Runtime;
using DistillSharp.Models.Decoder;
using DistillSharp.Models.Decoder.Generation;
using DistillSharp.Runtime.Decoder.Generation;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models.Decoder;

public class GenerationTests
{
    static readonly DecoderTokenizer Tokenizer = BpeTrainer.Train(DecoderTokenizerTests.Glosses, 300, ["<|endoftext|>"]);

    static CausalLm Model(string kind) => DecoderTestKit.Create(kind == "gpt2" ? DecoderTestKit.Gpt2(Tokenizer.VocabSize) : DecoderTestKit.Llama(Tokenizer.VocabSize) with { BosTokenId = 0, EosTokenIds = [0] });

    /// <summary>Greedy continuation by recomputing the whole sequence each step (no cache, no padding).</summary>
    static List<int> GreedyByRecomputation(CausalLm model, int[] prompt, int steps)
    {
        var seq = prompt.ToList();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(seq.Select(t => (long)t).ToArray(), [1, seq.Count])).Logits;
            seq.Add((int)logits[0, -1].argmax().item<long>());
        }
        return seq.Skip(prompt.Length).ToList();
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void GreedyBatchWithLeftPaddingEqualsArgmaxOfFullRecomputation(string kind)
    {
        using var model = Model(kind);
        int[][] prompts = [[40, 41, 42, 43, 44, 45, 46], [50, 51], [60, 61, 62, 63]];
        var options = new GenerationOptions { MaxNewTokens = 6, StopTokenIds = [] };
        var streamed = prompts.Select(_ => new List<int>()).ToList();
        var results = new TextGenerator(model, Tokenizer).GenerateIds(prompts, options, (i, t) => streamed[i].Add(t));
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(GreedyByRecomputation(model, prompts[i], 6), results[i].GeneratedIds);
            Assert.Equal(results[i].GeneratedIds, streamed[i]);
            Assert.Equal(StopReason.MaxNewTokens, results[i].StopReason);
            Assert.Equal(prompts[i], results[i].PromptIds);
            Assert.Equal(Tokenizer.Decode(results[i].GeneratedIds), results[i].Text);
        }
        Assert.True(results[0].PrefillTime > TimeSpan.Zero && results[0].DecodeTime > TimeSpan.Zero);
    }

    [Fact]
    public void EachSequenceStopsOnItsOwnStopToken()
    {
        using var model = Model("llama");
        int[][] prompts = [[40, 41, 42], [50, 51]];
        var free = new TextGenerator(model, Tokenizer).GenerateIds(prompts, new GenerationOptions { MaxNewTokens = 5, StopTokenIds = [] });
        int stop = free[0].GeneratedIds[2]; // make sequence 0's third token the stop token
        var results = new TextGenerator(model, Tokenizer).GenerateIds(prompts, new GenerationOptions { MaxNewTokens = 5, StopTokenIds = [stop] });
        Assert.Equal(StopReason.StopToken, results[0].StopReason);
        int first = Array.IndexOf(free[0].GeneratedIds, stop);
        Assert.Equal(free[0].GeneratedIds.Take(first + 1), results[0].GeneratedIds);
        Assert.Equal(Tokenizer.Decode(free[0].GeneratedIds.Take(first)), results[0].Text); // the stop token is not in the text
        int cut = Array.IndexOf(free[1].GeneratedIds, stop);
        Assert.Equal(cut < 0 ? free[1].GeneratedIds : free[1].GeneratedIds.Take(cut + 1), results[1].GeneratedIds);
    }

    [Fact]
    public void StopStringsCutTheTextAndStreamingConcatenatesToIt()
    {
        using var model = Model("gpt2");
        var generator = new TextGenerator(model, Tokenizer);
        var baseline = generator.Generate(["a motor vehicle"], new GenerationOptions { MaxNewTokens = 12, StopTokenIds = [] })[0];
        Assert.True(baseline.Text.Length >= 4, baseline.Text);
        string stop = baseline.Text.Substring(2, 2);
        var streamed = new System.Text.StringBuilder();
        var result = generator.Generate(["a motor vehicle"], new GenerationOptions { MaxNewTokens = 12, StopTokenIds = [], StopStrings = [stop] },
            (_, piece) => streamed.Append(piece))[0];
        Assert.Equal(StopReason.StopString, result.StopReason);
        Assert.Equal(baseline.Text[..baseline.Text.IndexOf(stop, StringComparison.Ordinal)], result.Text);
        Assert.Equal(result.Text, streamed.ToString());
        Assert.True(result.GeneratedIds.Length <= baseline.GeneratedIds.Length);
    }

    [Fact]
    public void SamplingIsSeededAndTopKOneIsGreedy()
    {
        using var model = Model("llama");
        var generator = new TextGenerator(model, Tokenizer);
        int[][] prompts = [[40, 41, 42]];
        GenerationOptions Sampled(ulong seed) => new() { MaxNewTokens = 8, Temperature = 1.5, TopP = 0.95, RepetitionPenalty = 1.2, Seed = seed, StopTokenIds = [] };
        Assert.Equal(generator.GenerateIds(prompts, Sampled(3))[0].GeneratedIds, generator.GenerateIds(prompts, Sampled(3))[0].GeneratedIds);
        var greedy = generator.GenerateIds(prompts, new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [] })[0].GeneratedIds;
        Assert.Equal(greedy, generator.GenerateIds(prompts, new GenerationOptions { MaxNewTokens = 8, Temperature = 2, TopK = 1, StopTokenIds = [] })[0].GeneratedIds);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void GenerationLeavesNoLiveTensorsBehind(string kind)
    {
        using var model = Model(kind);
        var generator = new TextGenerator(model, Tokenizer);
        var options = new GenerationOptions { MaxNewTokens = 5, Temperature = 0.7, TopK = 10, StopTokenIds = [], StopStrings = ["zz"] };
        generator.Generate(["a dog", "the region of"], options); // warm-up
        long live = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        generator.Generate(["a dog", "the region of"], options);
        Assert.Equal(live, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        float[] logits = [2f, -1f, 0.5f, 3f];
        TokenFilters.RepetitionPenalty(logits, [0, 1, 1], 2.0);
        Assert.Equal([1f, -2f, 0.5f, 3f], logits); // 2/2, −1·2, untouched, untouched
    }

    [Fact]
    public void TopKKeepsTheKLargestAndTiesAtTheBoundary()
    {
        float[] logits = [1f, 5f, 3f, 3f, -2f];
        TokenFilters.TopK(logits, 2);
        Assert.Equal([float.NegativeInfinity, 5f, 3f, 3f, float.NegativeInfinity], logits);
    }

    [Fact]
    public void TopPKeepsTheSmallestPrefixReachingP()
    {
        // Logits ln(p) for p = 0.5, 0.3, 0.15, 0.05: cumulative 0.5, 0.8, 0.95, 1.0.
        float[] Make() => [MathF.Log(0.15f), MathF.Log(0.5f), MathF.Log(0.05f), MathF.Log(0.3f)];
        var a = Make();
        TokenFilters.TopP(a, 0.75); // 0.5 < 0.75, so 0.3 is needed too (0.8 ≥ 0.75); 0.15 and 0.05 go
        Assert.Equal([false, true, false, true], a.Select(float.IsFinite));
        var b = Make();
        TokenFilters.TopP(b, 0.5); // 0.5 alone reaches 0.5
        Assert.Equal([false, true, false, false], b.Select(float.IsFinite));
        var c = Make();
        TokenFilters.TopP(c, 0.9);
        Assert.Equal([true, true, false, true], c.Select(float.IsFinite));
    }

    [Fact]
    public void SampleFollowsTheProbabilities()
    {
        float[] logits = [MathF.Log(0.7f), float.NegativeInfinity, MathF.Log(0.3f)];
        var rng = new SplitMix64(1);
        var counts = new int[3];
        for (int i = 0; i < 4000; i++) counts[TokenFilters.Sample(logits, rng)]++;
        Assert.Equal(0, counts[1]);
        Assert.InRange(counts[0] / 4000.0, 0.67, 0.73); // 0.7 ± 4.6 standard errors (σ = 0.0072)
    }

    [Theory]
    [InlineData(-1, 0, 0, 1, 1, "max-new-tokens must be ≥ 0, got -1")]
    [InlineData(5, -0.5, 0, 1, 1, "temperature must be ≥ 0 (0 = greedy), got -0.5")]
    [InlineData(5, 1, -3, 1, 1, "top-k must be ≥ 0 (0 = off), got -3")]
    [InlineData(5, 1, 0, 1.5, 1, "top-p must be in (0, 1], got 1.5")]
    [InlineData(5, 1, 0, 1, 0, "repetition-penalty must be > 0 (1 = off), got 0")]
    public void BadOptionsAreNamed(int maxNew, double temperature, int topK, double topP, double penalty, string expected)
    {
        var o = new GenerationOptions { MaxNewTokens = maxNew, Temperature = temperature, TopK = topK, TopP = topP, RepetitionPenalty = penalty };
        Assert.Equal(expected, Assert.Throws<DistillSharpException>(o.Validate).Message);
    }
}
