using DistillSharp.Models.Decoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Quantization.Decoder;

/// <summary>From a TorchSharp <see cref="CausalLm"/> to the INT8 decoder runtime (which does not know libtorch).</summary>
public static class DecoderToRuntime
{
    /// <summary>
    /// Copies a Llama-family or GPT-2 model's weights and quantizes every Linear (lm_head included unless
    /// <see cref="Int8DecoderOptions.LmHeadFp32"/>) to int8 per output channel, symmetric, with the
    /// scale max|row|/127 (<see cref="PostTrainingQuantizer.QuantizeLinear"/>; GPT-2's Conv1D weights
    /// are transposed to [out, in] first).
    /// </summary>
    public static Int8DecoderWeights Weights(CausalLm model, Int8DecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options = (options ?? new Int8DecoderOptions()).Validate();
        var c = model.Config;
        if (model is not (LlamaForCausalLm or Gpt2LmHeadModel))
            throw new DistillSharpException($"the INT8 decoder runtime runs LlamaForCausalLm and Gpt2LmHeadModel; got {model.GetType().Name}");
        string embeddings = Int8DecoderWeights.EmbeddingsNameOf(c);
        string lmHead = Int8DecoderWeights.LmHeadName;
        using var scope = NewDisposeScope();
        var state = model.state_dict();
        var fp32 = new Dictionary<string, FloatTensor>();
        var layers = new Dictionary<string, QuantizedLinearWeights>();
        var linearNames = Enumerable.Range(0, c.NumLayers).SelectMany(i => Int8DecoderWeights.LinearNames(c, i)).ToHashSet();
        foreach (var name in linearNames)
        {
            var bias = state.TryGetValue(name + ".bias", out var b) ? b : null;
            var weight = c.IsGpt2 ? state[name + ".weight"].t() : state[name + ".weight"]; // Conv1D (in, out) → (out, in)
            layers[name] = PostTrainingQuantizer.QuantizeLinear(name, weight, bias, 8, null);
        }
        foreach (var (name, t) in state)
        {
            string module = name[..name.LastIndexOf('.')];
            if (linearNames.Contains(module) || module == lmHead || name.EndsWith(".attn.bias") || name.EndsWith(".attn.masked_bias")) continue;
            fp32[name] = EncoderToRuntime.ToFloat(t);
        }
        var headWeight = c.TieWordEmbeddings ? state[embeddings] : state[lmHead + ".weight"];
        QuantizedLinearWeights? head = null;
        if (options.LmHeadFp32) fp32[lmHead + ".weight"] = EncoderToRuntime.ToFloat(headWeight);
        else layers[lmHead] = head = PostTrainingQuantizer.QuantizeLinear(lmHead, headWeight, null, 8, null);
        Int8EmbeddingTable? table = null;
        if (options.Int8Embeddings)
        {
            table = c.TieWordEmbeddings && head is not null
                ? new Int8EmbeddingTable(head.Weight, head.WeightScale, c.VocabSize, c.HiddenSize) // the same int8 rows as the head
                : Int8EmbeddingTable.Quantize(fp32[embeddings]);
            fp32.Remove(embeddings);
        }
        var quantized = new QuantizedModel(layers, 8, 8, options.ActivationSymmetric, ActivationMode.Dynamic, "minmax");
        return new Int8DecoderWeights(c, fp32, quantized, table, model.GetType().Name + " (int8 decoder runtime)").Validate();
    }

    /// <summary>Quantizes <paramref name="model"/> (<see cref="Weights"/>) and builds the runtime.</summary>
    public static Int8Decoder Build(CausalLm model, Int8DecoderOptions? options = null) => new(Weights(model, options), options);
}
