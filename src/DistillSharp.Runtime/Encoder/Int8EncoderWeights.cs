using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Runtime.Encoder;

/// <summary>
/// Everything an <see cref="Int8Encoder"/> is built from, free of TorchSharp: the BERT config, the
/// float32 tensors (embeddings, LayerNorms and any Linear the quantized model does not hold) under
/// their checkpoint names, the <see cref="QuantizedModel"/>, the tokenizer and the sentence pooling.
/// The word embeddings are either a float tensor in <see cref="Fp32"/> or, when
/// <see cref="Int8WordEmbeddings"/> is set, an int8 per-row table (then absent from <see cref="Fp32"/>).
/// </summary>
public sealed record Int8EncoderWeights(
    BertConfig Config, IReadOnlyDictionary<string, FloatTensor> Fp32, QuantizedModel Quantized,
    BertTextTokenizer Tokenizer, Pooling Pooling, bool Normalize, string Source, Int8EmbeddingTable? Int8WordEmbeddings = null)
{
    /// <summary>Checkpoint name of the word embedding table.</summary>
    public const string WordEmbeddingsName = "embeddings.word_embeddings.weight";

    /// <summary>These weights with the word embeddings as an int8 per-row table (the same object when they already are).</summary>
    public Int8EncoderWeights WithInt8WordEmbeddings()
    {
        if (Int8WordEmbeddings is not null) return this;
        var table = Int8EmbeddingTable.Quantize(new FloatTensor(Tensor(WordEmbeddingsName, Config.VocabSize, Config.HiddenSize),
            [Config.VocabSize, Config.HiddenSize]));
        var fp32 = Fp32.Where(kv => kv.Key != WordEmbeddingsName).ToDictionary(kv => kv.Key, kv => kv.Value);
        return (this with { Fp32 = fp32, Int8WordEmbeddings = table }).Validate();
    }

    /// <summary>These weights with float word embeddings (an int8 table is dequantized; the same object when they already are float).</summary>
    public Int8EncoderWeights WithFp32WordEmbeddings()
    {
        if (Int8WordEmbeddings is not { } table) return this;
        var fp32 = new Dictionary<string, FloatTensor>(Fp32) { [WordEmbeddingsName] = table.Dequantize() };
        return (this with { Fp32 = fp32, Int8WordEmbeddings = null }).Validate();
    }

    /// <summary>The six Linear layers of BERT layer <paramref name="i"/>, in forward order.</summary>
    public static IReadOnlyList<string> LinearNames(int i) =>
    [
        $"encoder.layer.{i}.attention.self.query", $"encoder.layer.{i}.attention.self.key", $"encoder.layer.{i}.attention.self.value",
        $"encoder.layer.{i}.attention.output.dense", $"encoder.layer.{i}.intermediate.dense", $"encoder.layer.{i}.output.dense",
    ];

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
    /// The weights of Linear <paramref name="name"/> (<c>[outFeatures, inFeatures]</c>): from the
    /// quantized model when it holds the layer, else the float tensors.
    /// </summary>
    internal LinearSource Linear(string name, int outFeatures, int inFeatures)
    {
        if (Quantized.Layers.TryGetValue(name, out var q))
        {
            if (q.OutFeatures != outFeatures || q.InFeatures != inFeatures)
                throw new DistillSharpException($"{Source}: quantized layer '{name}' is [{q.OutFeatures}, {q.InFeatures}], the config needs [{outFeatures}, {inFeatures}]");
            return LinearSource.FromQuantized(q.Validate(Quantized.WeightBits), Quantized.ActivationBits != 0, Quantized.Mode == ActivationMode.Static);
        }
        return LinearSource.FromFloat(name, Tensor(name + ".weight", outFeatures, inFeatures), Tensor(name + ".bias", outFeatures), outFeatures, inFeatures);
    }

    /// <summary>Checks the quantized model's settings and that every tensor the encoder needs is present with its shape.</summary>
    public Int8EncoderWeights Validate()
    {
        if (Quantized.WeightBits is not (8 or 4))
            throw new DistillSharpException($"{Source}: weight_bits {Quantized.WeightBits} is not supported by the INT8 runtime; allowed: 8, 4");
        if (Quantized.ActivationBits is not (8 or 0))
            throw new DistillSharpException($"{Source}: activation_bits {Quantized.ActivationBits} is not supported; allowed: 8, 0 (weight-only)");
        Tokenizer.CheckFits(Config.VocabSize, Config.MaxPositionEmbeddings, Source);
        Activations.Parse(Config.HiddenAct);
        var c = Config;
        if (Int8WordEmbeddings is { } table)
        {
            table.Validate($"{Source}: int8 table '{WordEmbeddingsName}'", c.VocabSize, c.HiddenSize);
            if (Fp32.ContainsKey(WordEmbeddingsName))
                throw new DistillSharpException($"{Source}: '{WordEmbeddingsName}' is given both as an int8 table and as a float tensor; keep one");
        }
        else Tensor(WordEmbeddingsName, c.VocabSize, c.HiddenSize);
        Tensor("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, c.HiddenSize);
        Tensor("embeddings.token_type_embeddings.weight", c.TypeVocabSize, c.HiddenSize);
        Tensor("embeddings.LayerNorm.weight", c.HiddenSize);
        Tensor("embeddings.LayerNorm.bias", c.HiddenSize);
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            var names = LinearNames(i);
            for (int j = 0; j < names.Count; j++)
            {
                var (o, n) = j switch { 4 => (c.IntermediateSize, c.HiddenSize), 5 => (c.HiddenSize, c.IntermediateSize), _ => (c.HiddenSize, c.HiddenSize) };
                Linear(names[j], o, n);
            }
            foreach (string ln in new[] { $"encoder.layer.{i}.attention.output.LayerNorm", $"encoder.layer.{i}.output.LayerNorm" })
            {
                Tensor(ln + ".weight", c.HiddenSize);
                Tensor(ln + ".bias", c.HiddenSize);
            }
        }
        return this;
    }
}
