using Onnx;
using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// Reads a BERT-family encoder exported to ONNX (by torch.onnx / Hugging Face Optimum) into a
/// <see cref="BertConfig"/> and a state dict with Hugging Face key names.
/// Named initializers (embeddings, biases, LayerNorm) keep their names. The Linear weights were
/// exported as anonymous MatMul initializers (numeric names such as "927", stored [in, out]); each
/// is named by following the graph to the Add that applies its bias ("…query.bias" → "…query.weight")
/// and transposed to [out, in]. Sizes, the LayerNorm epsilon and the head count are read from the
/// graph as well, never assumed.
/// </summary>
public static class OnnxBertImporter
{
    /// <summary>The imported model: its shape and its weights (name → row-major float32 data and shape).</summary>
    public sealed record Imported(BertConfig Config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> Weights);

    /// <summary>Parses ONNX bytes (no external data); <paramref name="source"/> names them in errors.</summary>
    public static Imported Import(byte[] onnx, string source) => Import(OnnxModelFile.Parse(onnx, source), source, folder: null);

    /// <summary>Reads an ONNX file; tensors in external files are read from inside its folder only.</summary>
    public static Imported Import(string path) => Import(OnnxModelFile.Read(path), path, OnnxModelFile.Folder(path));

    /// <summary>Imports a parsed model whose external data (if any) lies in <paramref name="folder"/>.</summary>
    public static Imported Import(ModelProto model, string source, string? folder)
    {
        var graph = model.Graph ?? throw new DistillSharpException($"{source}: ONNX model has no graph");
        var g = new OnnxGraphIndex(graph, source, folder);
        string prefix = g.Initializers.ContainsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        if (!g.Initializers.ContainsKey(prefix + "embeddings.word_embeddings.weight"))
            throw new DistillSharpException(
                $"{source}: not a BERT-family encoder: no initializer 'embeddings.word_embeddings.weight' " +
                $"(its initializers begin: {string.Join(", ", g.Initializers.Keys.Take(5))})");
        if (!graph.Input.Any(i => i.Name == "input_ids") || !graph.Input.Any(i => i.Name == "attention_mask"))
            throw new DistillSharpException($"{source}: not a BERT-family encoder: inputs are {string.Join(", ", graph.Input.Select(i => i.Name))}, expected input_ids and attention_mask");

        var weights = new Dictionary<string, (float[], long[])>();
        foreach (var (name, t) in g.Initializers)
        {
            if (!name.StartsWith(prefix) || t.DataType != (int)TensorProto.Types.DataType.Float) continue;
            string key = name[prefix.Length..];
            if (key.StartsWith("embeddings.") || key.StartsWith("encoder.") || key.StartsWith("pooler."))
                weights[key] = (g.Floats(t), t.Dims.ToArray());
        }
        NameMatMulWeights(g, prefix, weights, source);
        weights.Remove("embeddings.position_ids");

        var config = ReadConfig(g, prefix, weights, source);
        return new Imported(config, weights);
    }

    static void NameMatMulWeights(OnnxGraphIndex g, string prefix, Dictionary<string, (float[], long[])> weights, string source)
    {
        foreach (var node in g.Nodes.Where(n => n.OpType == "MatMul"))
        {
            if (node.Input.Count != 2 || node.Output.Count == 0 || !g.Initializers.TryGetValue(node.Input[1], out var w)) continue;
            var add = g.Consumers(node.Output[0]).FirstOrDefault(n => n.OpType == "Add");
            string? bias = add?.Input.FirstOrDefault(i => i != node.Output[0] && i.EndsWith(".bias") && g.Initializers.ContainsKey(i));
            if (bias is null)
                throw new DistillSharpException($"{source}: MatMul '{node.Name}' with weight '{node.Input[1]}' has no bias Add to name it by");
            if (w.Dims.Count != 2)
                throw new DistillSharpException($"{source}: MatMul weight '{node.Input[1]}' has {w.Dims.Count} dims, expected 2");
            string key = bias[prefix.Length..^".bias".Length] + ".weight";
            float[] data = g.Floats(w);
            int rows = (int)w.Dims[0], cols = (int)w.Dims[1]; // stored [in, out]
            var transposed = new float[data.Length];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    transposed[j * rows + i] = data[i * cols + j];
            weights[key] = (transposed, new long[] { cols, rows });
            // A named MatMul weight (ours: "<layer>.weight_t", [in, out]) was also collected under its own name.
            string own = node.Input[1];
            if (own.StartsWith(prefix) && own[prefix.Length..] != key) weights.Remove(own[prefix.Length..]);
        }
    }

    static BertConfig ReadConfig(OnnxGraphIndex g, string prefix, Dictionary<string, (float[] Data, long[] Shape)> w, string source)
    {
        long[] Shape(string key, int dims) => !w.TryGetValue(key, out var t)
            ? throw new DistillSharpException($"{source}: BERT tensor '{key}' not found in the graph")
            : t.Shape.Length == dims && t.Shape.All(d => d is > 0 and <= int.MaxValue) ? t.Shape
            : throw new DistillSharpException($"{source}: BERT tensor '{key}' has shape [{string.Join(", ", t.Shape)}], expected {dims} positive dims");
        int layers = w.Keys.Where(k => k.StartsWith("encoder.layer."))
            .Select(k => int.TryParse(k.Split('.')[2], out int i) && i is >= 0 and < BertConfig.MaxLayers ? i
                : throw new DistillSharpException($"{source}: tensor '{k}' does not name a layer index below {BertConfig.MaxLayers}"))
            .DefaultIfEmpty(-1).Max() + 1;
        if (layers == 0) throw new DistillSharpException($"{source}: no encoder.layer.* tensors: not a BERT encoder");
        long[] word = Shape("embeddings.word_embeddings.weight", 2);
        int hidden = (int)word[1];
        int headDim = g.AttentionHeadDim(source);
        if (hidden % headDim != 0)
            throw new DistillSharpException($"{source}: attention head size {headDim} read from the graph does not divide hidden size {hidden}");
        string act = g.Nodes.Any(n => n.OpType == "Erf") ? "gelu"
            : g.Nodes.Any(n => n.OpType == "Relu") ? "relu"
            : g.Nodes.Any(n => n.OpType == "Tanh") ? "gelu_new" // tanh-approximated GELU (a BertPooler's Tanh comes with an Erf or Relu FFN)
            : throw new DistillSharpException($"{source}: could not recognise the FFN activation (expected an Erf-based GELU, Relu or a Tanh-based GELU)");
        return new BertConfig
        {
            VocabSize = (int)word[0],
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = hidden / headDim,
            IntermediateSize = (int)Shape("encoder.layer.0.intermediate.dense.bias", 1)[0],
            HiddenAct = act,
            MaxPositionEmbeddings = (int)Shape("embeddings.position_embeddings.weight", 2)[0],
            TypeVocabSize = (int)Shape("embeddings.token_type_embeddings.weight", 2)[0],
            LayerNormEps = g.LayerNormEpsilon(prefix + "embeddings.LayerNorm.weight", source),
            HasPooler = w.ContainsKey("pooler.dense.weight"),
            HiddenDropoutProb = 0.1,
            AttentionProbsDropoutProb = 0.1,
        }.Validate(source);
    }
}
