using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// A decoder language model's shape, read from and written to Hugging Face's <c>config.json</c>.
/// Llama-family keys (llama, qwen2, mistral) and GPT-2 keys (n_embd, n_layer, n_head, n_positions,
/// layer_norm_epsilon, n_inner) map to the same properties.
/// </summary>
public sealed record DecoderConfig
{
    /// <summary>Supported model_type values.</summary>
    public static readonly IReadOnlyList<string> KnownModelTypes = ["llama", "qwen2", "mistral", "gpt2"];

    /// <summary>"llama", "qwen2", "mistral" or "gpt2".</summary>
    public string ModelType { get; init; } = "llama";
    /// <summary>Vocabulary size V (rows of the token embedding and of the LM head).</summary>
    public int VocabSize { get; init; } = 32000;
    /// <summary>Model width H.</summary>
    public int HiddenSize { get; init; } = 512;
    /// <summary>Decoder layers L.</summary>
    public int NumLayers { get; init; } = 8;
    /// <summary>Query heads per layer.</summary>
    public int NumHeads { get; init; } = 8;
    /// <summary>Key/value heads (grouped-query attention); divides <see cref="NumHeads"/>.</summary>
    public int NumKvHeads { get; init; } = 8;
    /// <summary>Per-head width d (usually H / heads).</summary>
    public int HeadDim { get; init; } = 64;
    /// <summary>Feed-forward width.</summary>
    public int IntermediateSize { get; init; } = 1376;
    /// <summary>Longest context (GPT-2: rows of the position embedding).</summary>
    public int MaxPositions { get; init; } = 2048;
    /// <summary>RMSNorm / LayerNorm epsilon.</summary>
    public double NormEps { get; init; } = 1e-6;
    /// <summary>Rotary base θ.</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>Rotary scaling for long contexts, or null.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Whether the LM head reuses the token embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (qwen2 always; llama's attention_bias also adds it to o_proj).</summary>
    public bool AttentionBias { get; init; }
    /// <summary>Feed-forward activation ("silu", "gelu", "gelu_new", "gelu_pytorch_tanh", "relu").</summary>
    public string HiddenAct { get; init; } = "silu";
    /// <summary>Beginning-of-sequence token id.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>End-of-sequence token id(s).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>Padding token id.</summary>
    public int? PadTokenId { get; init; }
    /// <summary>Mistral's sliding attention window (null = full causal attention).</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>True for GPT-2 (learned positions, LayerNorm, fused Conv1D projections).</summary>
    public bool IsGpt2 => ModelType == "gpt2";

    /// <summary>Reads a config.json file.</summary>
    public static DecoderConfig Load(string path)
    {
        return FromJson(InputFile.ReadText(path, InputFile.ConfigBytes, "config.json"), path);
    }

    /// <summary>Parses config.json text; <paramref name="path"/> only names the source in errors.</summary>
    public static DecoderConfig FromJson(string json, string path = "config.json")
    {
        var o = JsonKeys.ParseObject(json, path);
        string type = JsonKeys.String(o, "model_type", path)
            ?? throw new DistillSharpException($"{path}: no model_type; known: {string.Join(", ", KnownModelTypes)}");
        if (!KnownModelTypes.Contains(type))
            throw new DistillSharpException($"{path}: model_type '{type}' is not supported; known: {string.Join(", ", KnownModelTypes)}");
        var c = type == "gpt2" ? ReadGpt2(o, path) : ReadLlamaFamily(o, type, path);
        c = c with
        {
            BosTokenId = JsonKeys.Int(o, "bos_token_id", path) ?? c.BosTokenId,
            EosTokenIds = JsonKeys.IntList(o, "eos_token_id", path) ?? c.EosTokenIds,
            PadTokenId = JsonKeys.Int(o, "pad_token_id", path),
        };
        c.Validate(path);
        return c;
    }

    static DecoderConfig ReadLlamaFamily(JsonObject o, string type, string path)
    {
        int hidden = Required(o, "hidden_size", path);
        int heads = Required(o, "num_attention_heads", path);
        if (type == "qwen2" && JsonKeys.Bool(o, "use_sliding_window", path) == true)
            throw new DistillSharpException($"{path}: qwen2 with use_sliding_window=true is not supported (set it to false)");
        return new DecoderConfig
        {
            ModelType = type,
            VocabSize = Required(o, "vocab_size", path),
            HiddenSize = hidden,
            NumLayers = Required(o, "num_hidden_layers", path),
            NumHeads = heads,
            NumKvHeads = JsonKeys.Int(o, "num_key_value_heads", path) ?? heads,
            HeadDim = JsonKeys.Int(o, "head_dim", path) ?? (heads > 0 ? hidden / heads : 0),
            IntermediateSize = Required(o, "intermediate_size", path),
            MaxPositions = JsonKeys.Int(o, "max_position_embeddings", path) ?? 2048,
            NormEps = JsonKeys.Double(o, "rms_norm_eps", path) ?? 1e-6,
            RopeTheta = JsonKeys.Double(o, "rope_theta", path) ?? 10000.0,
            RopeScaling = RopeScaling.FromJson(o["rope_scaling"], path),
            TieWordEmbeddings = JsonKeys.Bool(o, "tie_word_embeddings", path) ?? false,
            AttentionBias = type == "qwen2" || (JsonKeys.Bool(o, "attention_bias", path) ?? false),
            HiddenAct = JsonKeys.String(o, "hidden_act", path) ?? "silu",
            SlidingWindow = type == "mistral" ? JsonKeys.Int(o, "sliding_window", path) : null,
        };
    }

    static DecoderConfig ReadGpt2(JsonObject o, string path)
    {
        int hidden = JsonKeys.Int(o, "n_embd", path) ?? 768;
        int heads = JsonKeys.Int(o, "n_head", path) ?? 12;
        return new DecoderConfig
        {
            ModelType = "gpt2",
            VocabSize = JsonKeys.Int(o, "vocab_size", path) ?? 50257,
            HiddenSize = hidden,
            NumLayers = JsonKeys.Int(o, "n_layer", path) ?? 12,
            NumHeads = heads,
            NumKvHeads = heads,
            HeadDim = heads > 0 ? hidden / heads : 0,
            IntermediateSize = JsonKeys.Int(o, "n_inner", path) ?? 4 * hidden,
            MaxPositions = JsonKeys.Int(o, "n_positions", path) ?? JsonKeys.Int(o, "n_ctx", path) ?? 1024,
            NormEps = JsonKeys.Double(o, "layer_norm_epsilon", path) ?? 1e-5,
            TieWordEmbeddings = JsonKeys.Bool(o, "tie_word_embeddings", path) ?? true,
            AttentionBias = true,
            HiddenAct = JsonKeys.String(o, "activation_function", path) ?? "gelu_new",
            BosTokenId = 50256,
            EosTokenIds = [50256],
        };
    }

    static int Required(JsonObject o, string key, string path) =>
        JsonKeys.Int(o, key, path) ?? throw new DistillSharpException($"{path}: missing required key {key}");

    /// <summary>Upper bounds of the sizes a config may declare (far above any model this runs; they keep a corrupt file from allocating).</summary>
    public const int MaxVocab = 1 << 22, MaxHidden = 65536, MaxLayers = 1024, MaxHeads = 1024, MaxHeadDim = 1024,
        MaxIntermediate = 1 << 20, MaxContext = 1 << 24;

    /// <summary>Parameters of the model this config describes (an estimate within a few norms' worth).</summary>
    public long ParameterCount()
    {
        long h = HiddenSize, v = VocabSize, f = IntermediateSize, d = HeadDim;
        long attention = h * (NumHeads + 2L * NumKvHeads) * d + (long)NumHeads * d * h;
        long ffn = (IsGpt2 ? 2 : 3) * h * f;
        return v * h * (TieWordEmbeddings ? 1 : 2) + NumLayers * (attention + ffn + 4 * h) + (IsGpt2 ? (long)MaxPositions * h : 0) + h;
    }

    /// <summary>Checks every size; errors name the key and the bad value.</summary>
    public void Validate(string path = "config")
    {
        void Positive(string key, int value, int max)
        {
            if (value <= 0) throw new DistillSharpException($"{path}: {key} must be > 0, got {value}");
            if (value > max) throw new DistillSharpException($"{path}: {key} must be at most {max:N0}, got {value:N0}");
        }
        Positive("vocab_size", VocabSize, MaxVocab);
        Positive(IsGpt2 ? "n_embd" : "hidden_size", HiddenSize, MaxHidden);
        Positive(IsGpt2 ? "n_layer" : "num_hidden_layers", NumLayers, MaxLayers);
        Positive(IsGpt2 ? "n_head" : "num_attention_heads", NumHeads, MaxHeads);
        Positive("num_key_value_heads", NumKvHeads, MaxHeads);
        Positive("head_dim", HeadDim, MaxHeadDim);
        Positive(IsGpt2 ? "n_inner" : "intermediate_size", IntermediateSize, MaxIntermediate);
        Positive(IsGpt2 ? "n_positions" : "max_position_embeddings", MaxPositions, MaxContext);
        MemoryBudget.Require(ParameterCount() * sizeof(float), $"{path}: a model of {ParameterCount():N0} parameters (fp32)");
        if (ModelType == "qwen2" && !AttentionBias)
            throw new DistillSharpException($"{path}: qwen2 always has q/k/v bias; AttentionBias must be true");
        if (IsGpt2 && (NumKvHeads != NumHeads || HeadDim * NumHeads != HiddenSize))
            throw new DistillSharpException($"{path}: gpt2 needs num_key_value_heads = n_head ({NumHeads}) and head_dim = n_embd / n_head, got {NumKvHeads} and {HeadDim}");
        if (NumHeads % NumKvHeads != 0)
            throw new DistillSharpException($"{path}: num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKvHeads})");
        if (IsGpt2 && HiddenSize % NumHeads != 0)
            throw new DistillSharpException($"{path}: n_embd ({HiddenSize}) must be a multiple of n_head ({NumHeads})");
        if (!IsGpt2 && HeadDim % 2 != 0) throw new DistillSharpException($"{path}: head_dim must be even for rotary embeddings, got {HeadDim}");
        if (!(NormEps > 0 && NormEps < 1)) throw new DistillSharpException($"{path}: {(IsGpt2 ? "layer_norm_epsilon" : "rms_norm_eps")} must be in (0, 1), got {NormEps}");
        if (!(RopeTheta > 0) || !double.IsFinite(RopeTheta)) throw new DistillSharpException($"{path}: rope_theta must be a finite number > 0, got {RopeTheta}");
        if (!Activations.TryParse(HiddenAct, out _))
            throw new DistillSharpException($"{path}: {(IsGpt2 ? "activation_function" : "hidden_act")} '{HiddenAct}' is not supported; known: {string.Join(", ", Activations.Names)}");
        if (SlidingWindow is <= 0) throw new DistillSharpException($"{path}: sliding_window must be > 0 or null, got {SlidingWindow}");
        RopeScaling?.Validate(path);
        foreach (var (key, id) in new[] { ("bos_token_id", BosTokenId), ("pad_token_id", PadTokenId) }.Concat(EosTokenIds.Select(e => ("eos_token_id", (int?)e))))
            if (id is { } v && (v < 0 || v >= VocabSize))
                throw new DistillSharpException($"{path}: {key} {v} is outside the vocabulary [0, {VocabSize})");
    }

    /// <summary>config.json text in the layout of the model type (GPT-2 keys for gpt2).</summary>
    public string ToJson(string torchDtype = "float32")
    {
        JsonObject o = IsGpt2
            ? new JsonObject
            {
                ["architectures"] = new JsonArray("GPT2LMHeadModel"), ["model_type"] = "gpt2",
                ["vocab_size"] = VocabSize, ["n_embd"] = HiddenSize, ["n_layer"] = NumLayers, ["n_head"] = NumHeads,
                ["n_inner"] = IntermediateSize, ["n_positions"] = MaxPositions, ["n_ctx"] = MaxPositions,
                ["layer_norm_epsilon"] = NormEps, ["activation_function"] = HiddenAct,
                ["resid_pdrop"] = 0.0, ["embd_pdrop"] = 0.0, ["attn_pdrop"] = 0.0,
            }
            : new JsonObject
            {
                ["architectures"] = new JsonArray(ModelType switch { "qwen2" => "Qwen2ForCausalLM", "mistral" => "MistralForCausalLM", _ => "LlamaForCausalLM" }),
                ["model_type"] = ModelType,
                ["vocab_size"] = VocabSize, ["hidden_size"] = HiddenSize, ["num_hidden_layers"] = NumLayers,
                ["num_attention_heads"] = NumHeads, ["num_key_value_heads"] = NumKvHeads, ["head_dim"] = HeadDim,
                ["intermediate_size"] = IntermediateSize, ["max_position_embeddings"] = MaxPositions,
                ["rms_norm_eps"] = NormEps, ["rope_theta"] = RopeTheta, ["rope_scaling"] = RopeScaling?.ToJson(),
                ["hidden_act"] = HiddenAct, ["attention_bias"] = AttentionBias && ModelType != "qwen2",
                ["attention_dropout"] = 0.0,
            };
        if (ModelType == "mistral") o["sliding_window"] = SlidingWindow;
        if (ModelType == "qwen2") o["use_sliding_window"] = false;
        o["tie_word_embeddings"] = TieWordEmbeddings;
        o["bos_token_id"] = BosTokenId;
        o["eos_token_id"] = EosTokenIds.Count == 1 ? EosTokenIds[0] : new JsonArray(EosTokenIds.Select(e => (JsonNode)e).ToArray());
        o["pad_token_id"] = PadTokenId;
        o["torch_dtype"] = torchDtype;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
