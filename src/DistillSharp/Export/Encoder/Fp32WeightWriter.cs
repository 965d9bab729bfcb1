namespace DistillSharp.Export.Encoder;

/// <summary>
/// Float32 weights: every Linear is MatMul by its transposed weight ("&lt;layer&gt;.weight_t", [in, out])
/// then Add of "&lt;layer&gt;.bias" — the pattern <see cref="Models.Encoder.OnnxBertImporter"/> names
/// weights by, so an exported model loads back into TorchSharp.
/// </summary>
internal sealed class Fp32WeightWriter(WeightTable weights) : IOnnxWeightWriter
{
    /// <inheritdoc/>
    public string Linear(OnnxGraphBuilder g, string layer, string x)
    {
        long[] shape = weights.Shape(layer + ".weight");                          // [out, in]
        string w = g.Floats(layer + ".weight_t", weights.Transposed(layer + ".weight"), shape[1], shape[0]);
        string product = g.Node("MatMul", [x, w], layer.Replace('.', '/') + "/matmul");
        return AddBias(g, weights, layer, product);
    }

    /// <inheritdoc/>
    public string WordEmbedding(OnnxGraphBuilder g, string inputIds)
    {
        const string name = "embeddings.word_embeddings.weight";
        string table = g.Floats(name, weights.Data(name), weights.Shape(name));
        return g.Node("Gather", [table, inputIds], "embeddings/word");
    }

    /// <summary>Adds "&lt;layer&gt;.bias" when the Linear has one.</summary>
    internal static string AddBias(OnnxGraphBuilder g, WeightTable weights, string layer, string product)
    {
        string biasName = layer + ".bias";
        if (!weights.Contains(biasName)) return product;
        string bias = g.Floats(biasName, weights.Data(biasName), weights.Shape(biasName));
        return g.Node("Add", [product, bias], layer.Replace('.', '/') + "/out");
    }
}
