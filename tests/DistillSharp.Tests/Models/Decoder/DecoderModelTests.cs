using DistillSharp.Models.Decoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models.Decoder;

public class DecoderModelTests
{
    public static TheoryData<string> Kinds => ["llama", "gpt2"];

    static CausalLm Model(string kind) => DecoderTestKit.Create(kind == "gpt2" ? DecoderTestKit.Gpt2() : DecoderTestKit.Llama());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ShapesOfLogitsHiddenStatesAndAttentions(string kind)
    {
        using var scope = NewDisposeScope();
        using var model = Model(kind);
        var output = model.Forward(DecoderTestKit.Ids([5, 6, 7, 8, 9], [10, 11, 12, 13, 14]), outputHiddenStates: true, outputAttentions: true);
        Assert.Equal([2L, 5, 97], output.Logits.shape);
        Assert.Equal(3, output.HiddenStates.Count);
        Assert.All(output.HiddenStates, h => Assert.Equal([2L, 5, 32], h.shape));
        Assert.Equal(2, output.Attentions.Count);
        Assert.All(output.Attentions, a => Assert.Equal([2L, 4, 5, 5], a.shape));
        // Causal: no weight on future keys; rows sum to one.
        var probs = output.Attentions[0];
        Assert.Equal(0f, probs.triu(1).abs().max().item<float>());
        Assert.True(DecoderTestKit.MaxAbsDiff(probs.sum(-1), ones(2, 4, 5)) < 1e-5);
        Assert.Empty(model.Forward(DecoderTestKit.Ids([5, 6])).HiddenStates);
    }

    [Fact]
    public void GroupedQueryAttentionEqualsFullAttentionWithRepeatedKvHeads()
    {
        // Build a 4-KV-head model whose k/v projections repeat each of the 2 grouped heads, as HF's repeat_kv does (head h uses kv head h / 2).
        using var scope = NewDisposeScope();
        var gqaConfig = DecoderTestKit.Llama();
        using var gqa = DecoderTestKit.Create(gqaConfig);
        using var mha = DecoderModels.Create(gqaConfig with { NumKvHeads = 4 });
        var source = gqa.state_dict();
        using (no_grad())
            foreach (var (name, target) in mha.state_dict())
            {
                var w = source[name];
                if (name.EndsWith("k_proj.weight") || name.EndsWith("v_proj.weight"))
                    w = w.view(2, 8, 32).repeat_interleave(2, 0).reshape(32, 32); // (kvh·d, H) → (h·d, H)
                target.copy_(w);
            }
        var ids = DecoderTestKit.Ids([3, 9, 27, 81, 4, 12], [1, 2, 3, 4, 5, 6]);
        var a = gqa.Forward(ids, outputAttentions: true);
        var b = mha.Forward(ids, outputAttentions: true);
        Assert.True(DecoderTestKit.MaxAbsDiff(a.Logits, b.Logits) < 1e-5);
        Assert.True(DecoderTestKit.MaxAbsDiff(a.Attentions[1], b.Attentions[1]) < 1e-6);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CachedLogitsEqualFullRecomputationTokenByTokenAndInChunks(string kind)
    {
        using var scope = NewDisposeScope();
        using var model = Model(kind);
        long[] row0 = [5, 17, 23, 42, 8, 61, 3, 30, 11];
        long[] row1 = [9, 12, 77, 50, 2, 19, 64, 7, 31];
        var ids = DecoderTestKit.Ids(row0, row1);
        var full = model.Forward(ids).Logits; // (2, 9, V)
        foreach (int[] chunks in new[] { Enumerable.Repeat(1, 9).ToArray(), [4, 3, 2], [1, 5, 3] })
        {
            using var cache = model.NewCache();
            var pieces = new List<Tensor>();
            int start = 0;
            foreach (int n in chunks)
            {
                pieces.Add(model.Forward(ids.narrow(1, start, n), cache: cache).Logits);
                start += n;
                Assert.Equal(start, cache.Length);
            }
            Assert.True(DecoderTestKit.MaxAbsDiff(cat(pieces, 1), full) < 1e-5, $"chunks {string.Join(",", chunks)}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void LeftPaddedBatchEqualsEachSequenceAloneWithAndWithoutCache(string kind)
    {
        using var scope = NewDisposeScope();
        using var model = Model(kind);
        long[] shortRow = [14, 15, 16];
        long[] longRow = [20, 21, 22, 23, 24, 25];
        var alone = model.Forward(DecoderTestKit.Ids(shortRow)).Logits; // (1, 3, V)
        var padded = DecoderTestKit.Ids([0, 0, 0, .. shortRow], longRow);
        var mask = DecoderTestKit.Ids([0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]);
        var batch = model.Forward(padded, mask).Logits;
        Assert.True(DecoderTestKit.MaxAbsDiff(batch.narrow(0, 0, 1).narrow(1, 3, 3), alone) < 1e-5);
        Assert.True(DecoderTestKit.MaxAbsDiff(batch.narrow(0, 1, 1), model.Forward(DecoderTestKit.Ids(longRow)).Logits) < 1e-5);

        // The same batch fed as a 4-token prefill, then one token at a time through the cache.
        using var cache = model.NewCache();
        var parts = new List<Tensor> { model.Forward(padded.narrow(1, 0, 4), mask.narrow(1, 0, 4), cache).Logits };
        for (int t = 4; t < 6; t++) parts.Add(model.Forward(padded.narrow(1, t, 1), mask.narrow(1, 0, t + 1), cache).Logits);
        var cached = cat(parts, 1);
        Assert.True(DecoderTestKit.MaxAbsDiff(cached.narrow(1, 3, 3), batch.narrow(1, 3, 3)) < 1e-5);
    }

    [Fact]
    public void SlidingWindowMasksKeysOlderThanTheWindow()
    {
        using var scope = NewDisposeScope();
        using var model = DecoderTestKit.Create(DecoderTestKit.Llama() with { ModelType = "mistral", SlidingWindow = 3 });
        var probs = model.Forward(DecoderTestKit.Ids([1, 2, 3, 4, 5, 6]), outputAttentions: true).Attentions[0]; // (1, 4, 6, 6)
        Assert.Equal(0f, probs.select(2, 5).narrow(-1, 0, 3).abs().max().item<float>()); // query 5 sees keys 3..5 only
        Assert.True(probs.select(2, 5).narrow(-1, 3, 3).min().item<float>() > 0);
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        using var model = Model("gpt2");
        var e = Assert.Throws<DistillSharpException>(() => model.Forward(ones(2, 3, dtype: ScalarType.Int64), ones(2, 4, dtype: ScalarType.Int64)));
        Assert.Contains("attentionMask must be (B, cached + new) = (2, 3), got [2, 4]", e.Message);
        e = Assert.Throws<DistillSharpException>(() => model.Forward(ones(1, 65, dtype: ScalarType.Int64)));
        Assert.Contains("exceeds n_positions 64", e.Message);
    }
}
