using DistillSharp.Runtime.Kernels;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;

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

    /// <summary>Upper bounds of the sizes a config may declare (far above any BERT-family encoder; they keep a corrupt file from allocating).</summary>
    public const int MaxVocab = 1 << 22, MaxHidden = 16384, MaxLayers = 256, MaxIntermediate = 65536, MaxPositions = 65536, MaxTypeVocab = 1024;

    /// <summary>Parameters of the encoder this config describes (embeddings, layers, pooler).</summary>
    public long ParameterCount()
    {
        long h = HiddenSize, f = IntermediateSize;
        long embeddings = ((long)VocabSize + MaxPositionEmbeddings + TypeVocabSize) * h + 2 * h;
        long layer = 4 * (h * h + h) + 2 * h * f + f + h + 4 * h;
        return embeddings + NumHiddenLayers * layer + (HasPooler ? h * h + h : 0);
    }

    /// <summary>
    /// Bytes a float32 inference pass over <paramref name="batch"/> × <paramref name="seq"/> tokens
    /// holds at its peak (an upper estimate: the token arrays, a layer's activations and its
    /// attention scores and probabilities, B × heads × T × T each).
    /// </summary>
    public long InferenceBytes(long batch, long seq) =>
        sizeof(long) * 3 * batch * seq + sizeof(float) * (batch * seq * (8L * HiddenSize + 2L * IntermediateSize) + 2 * batch * NumAttentionHeads * seq * seq);

    /// <summary>Checks the shape is buildable and fits in memory; errors name the field and value.</summary>
    public BertConfig Validate(string source)
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new DistillSharpException($"{source}: {message}");
        }
        void Range(string key, int value, int max)
        {
            Require(value > 0, $"{key} must be > 0, got {value}");
            Require(value <= max, $"{key} must be at most {max:N0}, got {value:N0}");
        }
        Range("vocab_size", VocabSize, MaxVocab);
        Range("hidden_size", HiddenSize, MaxHidden);
        Range("num_hidden_layers", NumHiddenLayers, MaxLayers);
        Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must divide hidden_size ({HiddenSize})");
        Range("intermediate_size", IntermediateSize, MaxIntermediate);
        Range("max_position_embeddings", MaxPositionEmbeddings, MaxPositions);
        Range("type_vocab_size", TypeVocabSize, MaxTypeVocab);
        Require(Activations.TryParse(HiddenAct, out _), $"hidden_act '{HiddenAct}' is not supported; use {string.Join(", ", Activations.Names)}");
        Require(LayerNormEps > 0 && LayerNormEps < 1, $"layer_norm_eps must be in (0, 1), got {LayerNormEps}");
        Require(HiddenDropoutProb is >= 0 and < 1, $"hidden_dropout_prob must be in [0, 1), got {HiddenDropoutProb}");
        Require(AttentionProbsDropoutProb is >= 0 and < 1, $"attention_probs_dropout_prob must be in [0, 1), got {AttentionProbsDropoutProb}");
        Require(InitializerRange >= 0 && double.IsFinite(InitializerRange), $"initializer_range must be a finite number >= 0, got {InitializerRange}");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, $"pad_token_id {PadTokenId} is outside the vocabulary [0, {VocabSize})");
        MemoryBudget.Require(ParameterCount() * sizeof(float), $"{source}: a model of {ParameterCount():N0} parameters (fp32)");
        return this;
    }

    /// <summary>Keys a config.json must give (Hugging Face's defaults for them would hide a truncated or foreign file).</summary>
    public static readonly IReadOnlyList<string> RequiredKeys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"];

    /// <summary>Reads a Hugging Face config.json (model_type bert and relatives); every key is type-checked.</summary>
    public static BertConfig FromJson(string json, string source)
    {
        var o = JsonKeys.ParseObject(json, source);
        string modelType = JsonKeys.String(o, "model_type", source) ?? "bert";
        if (modelType is not ("bert" or "distilbert_like" or "roberta" or "xlm-roberta" or "electra"))
            throw new DistillSharpException($"{source}: model_type '{modelType}' is not a BERT-family encoder");
        foreach (string key in RequiredKeys)
            if (!o.ContainsKey(key)) throw new DistillSharpException($"{source}: missing required key {key}");
        var d = new BertConfig();
        return new BertConfig
        {
            VocabSize = JsonKeys.Int(o, "vocab_size", source) ?? d.VocabSize,
            HiddenSize = JsonKeys.Int(o, "hidden_size", source) ?? d.HiddenSize,
            NumHiddenLayers = JsonKeys.Int(o, "num_hidden_layers", source) ?? d.NumHiddenLayers,
            NumAttentionHeads = JsonKeys.Int(o, "num_attention_heads", source) ?? d.NumAttentionHeads,
            IntermediateSize = JsonKeys.Int(o, "intermediate_size", source) ?? d.IntermediateSize,
            HiddenAct = JsonKeys.String(o, "hidden_act", source) ?? d.HiddenAct,
            MaxPositionEmbeddings = JsonKeys.Int(o, "max_position_embeddings", source) ?? d.MaxPositionEmbeddings,
            TypeVocabSize = JsonKeys.Int(o, "type_vocab_size", source) ?? d.TypeVocabSize,
            LayerNormEps = JsonKeys.Double(o, "layer_norm_eps", source) ?? d.LayerNormEps,
            HiddenDropoutProb = JsonKeys.Double(o, "hidden_dropout_prob", source) ?? d.HiddenDropoutProb,
            AttentionProbsDropoutProb = JsonKeys.Double(o, "attention_probs_dropout_prob", source) ?? d.AttentionProbsDropoutProb,
            InitializerRange = JsonKeys.Double(o, "initializer_range", source) ?? d.InitializerRange,
            PadTokenId = JsonKeys.Int(o, "pad_token_id", source) ?? 0,
            HasPooler = JsonKeys.Bool(o, "distillsharp_has_pooler", source) ?? true,
        }.Validate(source);
    }

    /// <summary>Reads a config.json file (size-capped, UTF-8).</summary>
    public static BertConfig Load(string path) => FromJson(InputFile.ReadText(path, InputFile.ConfigBytes, "config.json"), path);

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
