using DistillSharp.Runtime.Decoder;

namespace DistillSharp.Tests.Models.Decoder;

public class DecoderConfigTests
{
    // Key sets as in the config.json of TinyLlama-1.1B, Qwen2-0.5B and GPT-2 (values shrunk).
    const string LlamaJson = """
        {"model_type": "llama", "vocab_size": 320, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "intermediate_size": 128, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5,
         "rope_theta": 500000.0, "tie_word_embeddings": false, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": [2, 3],
         "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
        """;

    [Fact]
    public void ReadsLlamaKeysIncludingEosListAndRopeType()
    {
        var c = DecoderConfig.FromJson(LlamaJson);
        Assert.Equal(("llama", 320, 64, 2, 4, 2, 16, 128), (c.ModelType, c.VocabSize, c.HiddenSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadDim, c.IntermediateSize));
        Assert.Equal([2, 3], c.EosTokenIds);
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal("llama3", c.RopeScaling!.Type);
        Assert.Equal(8192, c.RopeScaling.OriginalMaxPositions);
        Assert.False(c.AttentionBias);
    }

    [Fact]
    public void Qwen2HasQkvBiasAndGpt2KeysMap()
    {
        var q = DecoderConfig.FromJson("""{"model_type": "qwen2", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 64, "eos_token_id": 5, "tie_word_embeddings": true}""");
        Assert.True(q.AttentionBias);
        Assert.Equal(4, q.NumKvHeads);
        Assert.Equal([5], q.EosTokenIds);
        var g = DecoderConfig.FromJson("""{"model_type": "gpt2", "vocab_size": 100, "n_embd": 48, "n_layer": 3, "n_head": 6, "n_positions": 256, "layer_norm_epsilon": 1e-5, "n_inner": null, "bos_token_id": 7, "eos_token_id": 7}""");
        Assert.Equal((48, 3, 6, 6, 8, 192, 256), (g.HiddenSize, g.NumLayers, g.NumHeads, g.NumKvHeads, g.HeadDim, g.IntermediateSize, g.MaxPositions));
        Assert.True(g.TieWordEmbeddings);
        Assert.Equal("gelu_new", g.HiddenAct);
    }

    [Fact]
    public void ToJsonRoundTrips()
    {
        foreach (var c in new[] { DecoderConfig.FromJson(LlamaJson), DecoderTestKit.Gpt2(), DecoderTestKit.Llama() with { ModelType = "qwen2", AttentionBias = true },
                     DecoderTestKit.Llama() with { ModelType = "mistral", SlidingWindow = 16, RopeScaling = new RopeScaling { Type = "yarn", Factor = 4, AttentionFactor = 1.2 } } })
        {
            var back = DecoderConfig.FromJson(c.ToJson());
            Assert.Equal(c with { EosTokenIds = [] }, back with { EosTokenIds = [] });
            Assert.Equal(c.EosTokenIds, back.EosTokenIds);
        }
    }

    [Theory]
    [InlineData("""{"model_type": "bert"}""", "model_type 'bert' is not supported; known: llama, qwen2, mistral, gpt2")]
    [InlineData("""{"vocab_size": 3}""", "no model_type")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 8}""", "num_attention_heads (4) must be a multiple of num_key_value_heads (3)")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "hidden_act": "tanh"}""", "hidden_act 'tanh' is not supported")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "rope_scaling": {"type": "ntk", "factor": 2}}""", "rope_scaling type 'ntk' is not supported; known: default, linear, dynamic, llama3, yarn")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "rope_scaling": {"type": "linear", "factor": -2}}""", "rope_scaling.factor must be > 0, got -2")]
    [InlineData("""{"model_type": "llama", "vocab_size": "many", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8}""", "vocab_size must be an integer, got \"many\"")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_hidden_layers": 0, "num_attention_heads": 4, "intermediate_size": 8}""", "num_hidden_layers must be > 0, got 0")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "eos_token_id": 10}""", "eos_token_id 10 is outside the vocabulary [0, 10)")]
    [InlineData("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 8}""", "missing required key num_hidden_layers")]
    [InlineData("""[1, 2]""", "not a JSON object")]
    public void BadValuesGiveClearErrors(string json, string expected)
    {
        var e = Assert.Throws<DistillSharpException>(() => DecoderConfig.FromJson(json, "x/config.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("x/config.json", e.Message);
    }

    [Fact]
    public void DefaultRopeTypeMeansNoScaling() =>
        Assert.Null(DecoderConfig.FromJson("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "rope_scaling": {"rope_type": "default"}}""").RopeScaling);
}
