using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// Everything an <see cref="Int8Decoder"/> is built from, free of TorchSharp: the decoder config,
/// the float32 tensors under their Hugging Face names (RMSNorm weights, the token embeddings unless
/// they are held in int8, any Linear the quantized model does not hold), the
/// <see cref="QuantizedModel"/> (int8 weights per output channel, symmetric, with biases) and the
/// optional int8 per-row token embedding table.
/// </summary>
public sealed record Int8DecoderWeights(
    DecoderConfig Config, IReadOnlyDictionary<string, FloatTensor> Fp32, QuantizedModel Quantized, Int8EmbeddingTable? Int8Embeddings, string Source)
{
    /// <summary>Name of the LM head Linear (also when it is tied to the embeddings).</summary>
    public const string LmHeadName = "lm_head";

    /// <summary>Checkpoint name of the token embedding table of a <paramref name="config"/> model.</summary>
    public static string EmbeddingsNameOf(DecoderConfig config) => config.IsGpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";

    /// <summary>Checkpoint name of the token embedding table.</summary>
    public string EmbeddingsName => EmbeddingsNameOf(Config);
    /// <summary>Module name of the final norm (GPT-2's LayerNorm also has a ".bias").</summary>
    public string FinalNormName => Config.IsGpt2 ? "transformer.ln_f" : "model.norm";
    /// <summary>GPT-2's learned position embeddings.</summary>
    public const string PositionsName = "transformer.wpe.weight";

    /// <summary>
    /// The Linear layers of layer <paramref name="i"/> in forward order: Llama q, k, v, o, gate, up,
    /// down; GPT-2 c_attn (fused q|k|v), attn.c_proj, c_fc, mlp.c_proj (Conv1D, held here as [out, in]).
    /// </summary>
    public static IReadOnlyList<string> LinearNames(DecoderConfig config, int i) => config.IsGpt2
        ? [$"transformer.h.{i}.attn.c_attn", $"transformer.h.{i}.attn.c_proj", $"transformer.h.{i}.mlp.c_fc", $"transformer.h.{i}.mlp.c_proj"]
        : [
            $"model.layers.{i}.self_attn.q_proj", $"model.layers.{i}.self_attn.k_proj", $"model.layers.{i}.self_attn.v_proj",
            $"model.layers.{i}.self_attn.o_proj", $"model.layers.{i}.mlp.gate_proj", $"model.layers.{i}.mlp.up_proj",
            $"model.layers.{i}.mlp.down_proj",
        ];

    /// <summary>The two norms of layer <paramref name="i"/> (module names; GPT-2's have a bias).</summary>
    public IReadOnlyList<string> NormNames(int i) => Config.IsGpt2
        ? [$"transformer.h.{i}.ln_1", $"transformer.h.{i}.ln_2"]
        : [$"model.layers.{i}.input_layernorm", $"model.layers.{i}.post_attention_layernorm"];

    /// <summary>[out, in] of the Linear layers of <see cref="LinearNames"/>, in the same order.</summary>
    public IReadOnlyList<(int Out, int In)> LinearShapes()
    {
        var c = Config;
        int h = c.HiddenSize, q = c.NumHeads * c.HeadDim, kv = c.NumKvHeads * c.HeadDim, f = c.IntermediateSize;
        return c.IsGpt2
            ? [(3 * h, h), (h, h), (f, h), (h, f)]
            : [(q, h), (kv, h), (kv, h), (h, q), (f, h), (f, h), (h, f)];
    }

    /// <summary>Weight and (GPT-2) bias of norm <paramref name="module"/>.</summary>
    internal (float[] Weight, float[]? Bias) Norm(string module) =>
        (Tensor(module + ".weight", Config.HiddenSize), Config.IsGpt2 ? Tensor(module + ".bias", Config.HiddenSize) : null);

    /// <summary>The float tensor <paramref name="name"/>, checked against <paramref name="shape"/>.</summary>
    public float[] Tensor(string name, params long[] shape)
    {
        if (!Fp32.TryGetValue(name, out var t))
            throw new DistillSharpException($"{Source}: float tensor '{name}' is missing");
        if (!t.Shape.SequenceEqual(shape) || t.Data.LongLength != shape.Aggregate(1L, (a, b) => a * b))
            throw new DistillSharpException($"{Source}: tensor '{name}' has shape {t.ShapeText}, expected [{string.Join(", ", shape)}]");
        return t.Data;
    }

    /// <summary>
    /// The weights of Linear <paramref name="name"/>: the quantized layer when the model holds it (int8,
    /// or dequantized to fp32 when <paramref name="int8Activations"/> is false), else the float tensors
    /// (a tied lm_head without its own tensor reads the float embeddings).
    /// </summary>
    internal LinearSource Linear(string name, int outFeatures, int inFeatures, bool int8Activations)
    {
        if (Quantized.Layers.TryGetValue(name, out var q))
        {
            if (q.OutFeatures != outFeatures || q.InFeatures != inFeatures)
                throw new DistillSharpException($"{Source}: quantized layer '{name}' is [{q.OutFeatures}, {q.InFeatures}], the config needs [{outFeatures}, {inFeatures}]");
            return LinearSource.FromQuantized(q.Validate(Quantized.WeightBits), int8Activations);
        }
        string weight = name == LmHeadName && Config.TieWordEmbeddings && !Fp32.ContainsKey(name + ".weight") ? EmbeddingsName : name + ".weight";
        var bias = Fp32.ContainsKey(name + ".bias") ? Tensor(name + ".bias", outFeatures) : new float[outFeatures];
        return LinearSource.FromFloat(name, Tensor(weight, outFeatures, inFeatures), bias, outFeatures, inFeatures);
    }

    /// <summary>Checks the settings and that every tensor the decoder needs is present with its shape.</summary>
    public Int8DecoderWeights Validate()
    {
        var c = Config;
        c.Validate(Source);
        if (Quantized.WeightBits is not (8 or 4))
            throw new DistillSharpException($"{Source}: weight_bits {Quantized.WeightBits} is not supported by the INT8 runtime; allowed: 8, 4");
        Activations.Parse(c.HiddenAct);
        if (Int8Embeddings is { } table)
        {
            table.Validate($"{Source}: int8 table '{EmbeddingsName}'", c.VocabSize, c.HiddenSize);
            if (Fp32.ContainsKey(EmbeddingsName))
                throw new DistillSharpException($"{Source}: '{EmbeddingsName}' is given both as an int8 table and as a float tensor; keep one");
        }
        else Tensor(EmbeddingsName, c.VocabSize, c.HiddenSize);
        Norm(FinalNormName);
        if (c.IsGpt2) Tensor(PositionsName, c.MaxPositions, c.HiddenSize);
        var shapes = LinearShapes();
        for (int i = 0; i < c.NumLayers; i++)
        {
            var names = LinearNames(c, i);
            for (int j = 0; j < names.Count; j++) Linear(names[j], shapes[j].Out, shapes[j].In, true);
            foreach (var norm in NormNames(i)) Norm(norm);
        }
        if (!Quantized.Layers.ContainsKey(LmHeadName) && !Fp32.ContainsKey(LmHeadName + ".weight") && !(c.TieWordEmbeddings && Fp32.ContainsKey(EmbeddingsName)))
            throw new DistillSharpException($"{Source}: no lm_head: not quantized, no float '{LmHeadName}.weight' and no float tied embeddings");
        Linear(LmHeadName, c.VocabSize, c.HiddenSize, true);
        return this;
    }
}
