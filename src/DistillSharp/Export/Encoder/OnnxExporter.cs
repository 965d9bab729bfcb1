using Google.Protobuf;
using Onnx;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Export.Encoder;

/// <summary>
/// Exports a BERT-family encoder (teacher or student) to a self-contained ONNX model for ONNX
/// Runtime: inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> (int64, (batch,
/// sequence), both dynamic); outputs <c>last_hidden_state</c> (B, T, H) and <c>sentence_embedding</c>
/// (B, H) with the encoder's pooling and normalisation built in. See docs/EXPORT.md.
/// </summary>
public static class OnnxExporter
{
    const string Producer = "DistillSharp";

    /// <summary>Writes the float32 graph of a sentence encoder (its pooling and normalisation unless overridden).</summary>
    public static OnnxExportResult ExportFp32(SentenceEncoder encoder, string path, OnnxExportOptions? options = null) =>
        ExportFp32(encoder.Model, path, WithEncoderDefaults(encoder, options));

    /// <summary>Writes the float32 graph of a bare encoder (mean pooling + L2 normalisation unless <paramref name="options"/> say otherwise).</summary>
    public static OnnxExportResult ExportFp32(BertEncoderModel model, string path, OnnxExportOptions? options = null)
    {
        var proto = BuildFp32(model, options);
        return Write(proto, path, "fp32", [], LinearNames(model.Config));
    }

    /// <summary>Writes the INT8 graph of a sentence encoder quantized as <paramref name="quantized"/>.</summary>
    public static OnnxExportResult ExportInt8(SentenceEncoder encoder, QuantizedModel quantized, string path, OnnxExportOptions? options = null) =>
        ExportInt8(encoder.Model, quantized, path, WithEncoderDefaults(encoder, options));

    /// <summary>
    /// Writes the INT8 graph of <paramref name="model"/>: Linear weights from <paramref name="quantized"/>
    /// (int8, per output channel), LayerNorms, biases and position/type embeddings in float32, the word
    /// embedding table int8 per row unless <see cref="OnnxExportOptions.QuantizeWordEmbeddings"/> is off.
    /// </summary>
    public static OnnxExportResult ExportInt8(BertEncoderModel model, QuantizedModel quantized, string path, OnnxExportOptions? options = null)
    {
        var (proto, writer) = BuildInt8Core(model, quantized, options);
        return Write(proto, path, writer.Scheme, writer.Int8Layers, writer.Fp32Layers) with { Recipe = writer.Recipe.Name };
    }

    /// <summary>The float32 graph as an in-memory ONNX model.</summary>
    public static ModelProto BuildFp32(BertEncoderModel model, OnnxExportOptions? options = null)
    {
        options = (options ?? new OnnxExportOptions()).Validate();
        var weights = new WeightTable(model, "ONNX export");
        return Build(model.Config, weights, new Fp32WeightWriter(weights), options);
    }

    /// <summary>The INT8 graph as an in-memory ONNX model.</summary>
    public static ModelProto BuildInt8(BertEncoderModel model, QuantizedModel quantized, OnnxExportOptions? options = null) =>
        BuildInt8Core(model, quantized, options).Model;

    static (ModelProto Model, Int8WeightWriter Writer) BuildInt8Core(BertEncoderModel model, QuantizedModel quantized, OnnxExportOptions? options)
    {
        options = (options ?? new OnnxExportOptions()).Validate();
        const string source = "ONNX INT8 export";
        if (quantized.WeightBits != 8)
            throw new DistillSharpException($"{source}: weight_bits is {quantized.WeightBits}; ONNX INT8 export takes 8-bit weights (4-bit weights have no ONNX Runtime CPU MatMul path here)");
        if (quantized.ActivationBits is not (0 or 8))
            throw new DistillSharpException($"{source}: activation_bits is {quantized.ActivationBits}; allowed: 8, 0 (weight-only)");
        var graphLinears = LinearNames(model.Config).ToHashSet();
        var inGraph = quantized.Layers.Keys.Where(graphLinears.Contains).ToList();
        if (inGraph.Count == 0)
            throw new DistillSharpException(
                $"{source}: the quantized model holds none of the encoder's Linear layers (it has: {string.Join(", ", quantized.Layers.Keys.Take(4))}; expected names like encoder.layer.0.attention.self.query)");
        foreach (var layer in inGraph) quantized.Layers[layer].Validate(8);
        var weights = new WeightTable(model, source);
        var writer = new Int8WeightWriter(weights, quantized, options, source);
        return (Build(model.Config, weights, writer, options), writer);
    }

    /// <summary>Names of the Linear layers the graph contains (the pooler's is not: the outputs do not use it).</summary>
    public static IReadOnlyList<string> LinearNames(BertConfig c) =>
        Enumerable.Range(0, c.NumHiddenLayers).SelectMany(i => new[]
        {
            $"encoder.layer.{i}.attention.self.query", $"encoder.layer.{i}.attention.self.key", $"encoder.layer.{i}.attention.self.value",
            $"encoder.layer.{i}.attention.output.dense", $"encoder.layer.{i}.intermediate.dense", $"encoder.layer.{i}.output.dense",
        }).ToList();

    static ModelProto Build(BertConfig config, WeightTable weights, IOnnxWeightWriter writer, OnnxExportOptions options)
    {
        var g = new OnnxGraphBuilder();
        BertOnnxGraph.Write(g, config, weights, writer, options.Pooling ?? Pooling.Mean, options.Normalize ?? true, options.DistillationOutputs);
        var model = g.Build("bert_encoder", options.Opset, Producer);
        model.Graph.DocString = $"BERT encoder: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, {config.NumAttentionHeads} heads, " +
                                $"ffn {config.IntermediateSize}, {config.HiddenAct}; sentence_embedding = {options.Pooling ?? Pooling.Mean} pooling" +
                                (options.Normalize ?? true ? " + L2 normalisation" : "");
        return model;
    }

    static OnnxExportOptions WithEncoderDefaults(SentenceEncoder encoder, OnnxExportOptions? options)
    {
        options ??= new OnnxExportOptions();
        return options with { Pooling = options.Pooling ?? encoder.Pooling, Normalize = options.Normalize ?? encoder.Normalize };
    }

    static OnnxExportResult Write(ModelProto model, string path, string scheme, IReadOnlyList<string> int8, IReadOnlyList<string> fp32)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DistillSharpException("ONNX export needs an output path");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
            throw new DistillSharpException($"ONNX export: folder '{dir}' does not exist");
        // A protobuf message is limited to 2 GB; a BERT-base fp32 graph is ~0.4 GB.
        AtomicFile.Write(path, stream => model.WriteTo(stream));
        return new OnnxExportResult(path, new FileInfo(path).Length, scheme, int8, fp32);
    }
}
