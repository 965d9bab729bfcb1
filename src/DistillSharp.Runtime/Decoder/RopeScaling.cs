using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// The <c>rope_scaling</c> block of a Hugging Face config: how rotary frequencies are stretched for
/// contexts longer than the model was trained on. <see cref="Type"/> is one of "linear",
/// "dynamic" (NTK-aware), "llama3" or "yarn"; the other fields are used by the types that name them.
/// </summary>
public sealed record RopeScaling
{
    /// <summary>Known scaling types.</summary>
    public static readonly IReadOnlyList<string> KnownTypes = ["linear", "dynamic", "llama3", "yarn"];

    /// <summary>"linear", "dynamic", "llama3" or "yarn".</summary>
    public string Type { get; init; } = "linear";
    /// <summary>Context stretch factor (> 0; ≥ 1 for dynamic, llama3 and yarn).</summary>
    public double Factor { get; init; } = 1.0;
    /// <summary>llama3/yarn/dynamic: the context length of pre-training (default: the config's max positions).</summary>
    public int? OriginalMaxPositions { get; init; }
    /// <summary>llama3: wavelengths longer than original/low_freq_factor are divided by the factor.</summary>
    public double LowFreqFactor { get; init; } = 1.0;
    /// <summary>llama3: wavelengths shorter than original/high_freq_factor are kept.</summary>
    public double HighFreqFactor { get; init; } = 4.0;
    /// <summary>yarn: rotations (within the original context) above which frequencies are kept.</summary>
    public double BetaFast { get; init; } = 32.0;
    /// <summary>yarn: rotations below which frequencies are fully interpolated.</summary>
    public double BetaSlow { get; init; } = 1.0;
    /// <summary>yarn: scale of cos/sin (default 0.1·ln(factor) + 1).</summary>
    public double? AttentionFactor { get; init; }

    /// <summary>Reads the block; HF writes the type under "type" (old) or "rope_type" (new). "default" means no scaling (null).</summary>
    public static RopeScaling? FromJson(JsonNode? node, string path)
    {
        if (node is null) return null;
        if (node is not JsonObject o) throw new DistillSharpException($"{path}: rope_scaling must be an object or null, got {node.ToJsonString()}");
        string? type = JsonKeys.String(o, "rope_type", path) ?? JsonKeys.String(o, "type", path);
        if (type is null or "default") return null;
        if (!KnownTypes.Contains(type))
            throw new DistillSharpException($"{path}: rope_scaling type '{type}' is not supported; known: default, {string.Join(", ", KnownTypes)}");
        var r = new RopeScaling
        {
            Type = type,
            Factor = JsonKeys.Double(o, "factor", path) ?? 1.0,
            OriginalMaxPositions = JsonKeys.Int(o, "original_max_position_embeddings", path),
            LowFreqFactor = JsonKeys.Double(o, "low_freq_factor", path) ?? 1.0,
            HighFreqFactor = JsonKeys.Double(o, "high_freq_factor", path) ?? 4.0,
            BetaFast = JsonKeys.Double(o, "beta_fast", path) ?? 32.0,
            BetaSlow = JsonKeys.Double(o, "beta_slow", path) ?? 1.0,
            AttentionFactor = JsonKeys.Double(o, "attention_factor", path),
        };
        r.Validate(path);
        return r;
    }

    /// <summary>Checks the values; errors name the key and the bad value.</summary>
    public void Validate(string path)
    {
        if (!KnownTypes.Contains(Type))
            throw new DistillSharpException($"{path}: rope_scaling type '{Type}' is not supported; known: {string.Join(", ", KnownTypes)}");
        if (!(Factor > 0)) throw new DistillSharpException($"{path}: rope_scaling.factor must be > 0, got {Factor}");
        if (Type != "linear" && Factor < 1) throw new DistillSharpException($"{path}: rope_scaling.factor must be ≥ 1 for {Type}, got {Factor}");
        if (Type == "llama3" && !(HighFreqFactor > LowFreqFactor))
            throw new DistillSharpException($"{path}: rope_scaling.high_freq_factor ({HighFreqFactor}) must exceed low_freq_factor ({LowFreqFactor})");
        if (OriginalMaxPositions is <= 0)
            throw new DistillSharpException($"{path}: rope_scaling.original_max_position_embeddings must be > 0, got {OriginalMaxPositions}");
    }

    /// <summary>The block as HF writes it (both "type" and "rope_type").</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["rope_type"] = Type, ["type"] = Type, ["factor"] = Factor };
        if (OriginalMaxPositions is { } m) o["original_max_position_embeddings"] = m;
        if (Type == "llama3") { o["low_freq_factor"] = LowFreqFactor; o["high_freq_factor"] = HighFreqFactor; }
        if (Type == "yarn")
        {
            o["beta_fast"] = BetaFast;
            o["beta_slow"] = BetaSlow;
            if (AttentionFactor is { } a) o["attention_factor"] = a;
        }
        return o;
    }
}
