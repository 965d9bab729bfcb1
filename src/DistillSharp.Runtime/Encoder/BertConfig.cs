using DistillSharp.Runtime.Kernels;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Runtime.Encoder;

/// <summary>
/// A BERT-family encoder's shape, with the field names of Hugging Face's <c>config.json</c>
/// (<c>BertConfig</c>) so that the file reads and writes without a rename table.
/// </summary>
public sealed record BertConfig
{
    /// <summary>Vocabulary size (rows of the word embedding).</summary>
    public int VocabSize { get; init; } = 30522;
    /// <summary>Model width H.</summary>
    public int HiddenSize { get; init; } = 384;
    /// <summary>Number of transformer layers L.</summary>
    public int NumHiddenLayers { get; init; } = 6;
    /// <summary>Attention heads per layer; must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>Feed-forward width.</summary>
    public int IntermediateSize { get; init; } = 1536;
    /// <summary>Feed-forward activation, a name of the activation table (<see cref="Kernels.Activations"/>): "gelu" (exact, erf), "gelu_new"/"gelu_pytorch_tanh" (tanh approximation), "relu", "silu".</summary>
    public string HiddenAct { get; init; } = "gelu";
    /// <summary>Position embedding rows.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;
    /// <summary>Token-type (segment) embedding rows.</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary>Dropout after embeddings, attention output and FFN output.</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;
    /// <summary>Dropout on attention probabilities.</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    /// <summary>Std of the normal initialiser.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>Padding token id.</summary>
    public int PadTokenId { get; init; }
    /// <summary>Whether the model has the tanh pooler over [CLS] (BertModel's pooler).</summary>
    public bool HasPooler { get; init; } = true;

    /// <summary>Width of one attention head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Checks the shape is buildable; errors name the field and value.</summary>
    public BertConfig Validate(string source)
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new DistillSharpException($"{source}: {message}");
        }
        Require(VocabSize > 0, $"vocab_size must be > 0, got {VocabSize}");
        Require(HiddenSize > 0, $"hidden_size must be > 0, got {HiddenSize}");
        Require(NumHiddenLayers > 0, $"num_hidden_layers must be > 0, got {NumHiddenLayers}");
        Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must divide hidden_size ({HiddenSize})");
        Require(IntermediateSize > 0, $"intermediate_size must be > 0, got {IntermediateSize}");
        Require(Activations.TryParse(HiddenAct, out _), $"hidden_act '{HiddenAct}' is not supported; use {string.Join(", ", Activations.Names)}");
        Require(LayerNormEps > 0, $"layer_norm_eps must be > 0, got {LayerNormEps}");
        Require(HiddenDropoutProb is >= 0 and < 1, $"hidden_dropout_prob must be in [0, 1), got {HiddenDropoutProb}");
        Require(AttentionProbsDropoutProb is >= 0 and < 1, $"attention_probs_dropout_prob must be in [0, 1), got {AttentionProbsDropoutProb}");
        return this;
    }

    /// <summary>Reads a Hugging Face config.json (model_type bert and relatives).</summary>
    public static BertConfig FromJson(string json, string source)
    {
        JsonObject o;
        try
        {
            o = JsonNode.Parse(json)?.AsObject() ?? throw new DistillSharpException($"{source}: empty JSON");
        }
        catch (JsonException e)
        {
            throw new DistillSharpException($"{source}: not valid JSON ({e.Message})");
        }
        string modelType = o["model_type"]?.GetValue<string>() ?? "bert";
        if (modelType is not ("bert" or "distilbert_like" or "roberta" or "xlm-roberta" or "electra"))
            throw new DistillSharpException($"{source}: model_type '{modelType}' is not a BERT-family encoder");
        var d = new BertConfig();
        int Int(string key, int fallback) => o[key] is JsonNode n ? n.GetValue<int>() : fallback;
        double Dbl(string key, double fallback) => o[key] is JsonNode n ? n.GetValue<double>() : fallback;
        return new BertConfig
        {
            VocabSize = Int("vocab_size", d.VocabSize),
            HiddenSize = Int("hidden_size", d.HiddenSize),
            NumHiddenLayers = Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = Int("num_attention_heads", d.NumAttentionHeads),
            IntermediateSize = Int("intermediate_size", d.IntermediateSize),
            HiddenAct = o["hidden_act"]?.GetValue<string>() ?? d.HiddenAct,
            MaxPositionEmbeddings = Int("max_position_embeddings", d.MaxPositionEmbeddings),
            TypeVocabSize = Int("type_vocab_size", d.TypeVocabSize),
            LayerNormEps = Dbl("layer_norm_eps", d.LayerNormEps),
            HiddenDropoutProb = Dbl("hidden_dropout_prob", d.HiddenDropoutProb),
            AttentionProbsDropoutProb = Dbl("attention_probs_dropout_prob", d.AttentionProbsDropoutProb),
            InitializerRange = Dbl("initializer_range", d.InitializerRange),
            PadTokenId = Int("pad_token_id", 0),
            HasPooler = o["distillsharp_has_pooler"]?.GetValue<bool>() ?? true,
        }.Validate(source);
    }

    /// <summary>Writes a Hugging Face config.json that transformers' AutoModel reads as BertModel.</summary>
    public string ToJson(string torchDtype = "float32") =>
        ToJsonObject(torchDtype, "BertModel").ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>The fields of config.json, for <paramref name="architecture"/> (a head adds its own fields).</summary>
    public JsonObject ToJsonObject(string torchDtype, string architecture)
    {
        return new JsonObject
        {
            ["architectures"] = new JsonArray(architecture),
            ["model_type"] = "bert",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["initializer_range"] = InitializerRange,
            ["pad_token_id"] = PadTokenId,
            ["position_embedding_type"] = "absolute",
            ["torch_dtype"] = torchDtype,
            ["distillsharp_has_pooler"] = HasPooler,
        };
    }
}
