using DistillSharp.Export.Encoder;
using DistillSharp.Models.Classifier;
using DistillSharp.Quantization.Classifier;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Quantization;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DistillSharp.Export.Classifier;

/// <summary>
/// Exports a sequence classifier to ONNX for ONNX Runtime: the encoder graph of
/// <see cref="BertOnnxGraph"/> (inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>;
/// output <c>last_hidden_state</c>), then transformers' head — Gather of the [CLS] row, pooler
/// MatMul + Add + Tanh, classifier MatMul + Add — as output <c>logits</c> (batch, C), the output
/// name transformers' ONNX exports use. fp32, or INT8 with the same weight writers as the encoder.
/// See docs/EXPORT.md.
/// </summary>
public static class ClassifierOnnxExporter
{
    /// <summary>Writes the float32 graph.</summary>
    public static OnnxExportResult ExportFp32(SequenceClassifier classifier, string path, OnnxExportOptions? options = null)
    {
        var proto = BuildFp32(classifier, options);
        return OnnxExporter.Write(proto, path, "fp32", [], LinearNames(classifier.Config));
    }

    /// <summary>Writes the INT8 graph; <paramref name="quantized"/> carries the classifier's module paths (<see cref="ClassifierQuantizer"/>).</summary>
    public static OnnxExportResult ExportInt8(SequenceClassifier classifier, QuantizedModel quantized, string path, OnnxExportOptions? options = null)
    {
        var (proto, writer) = BuildInt8Core(classifier, quantized, options);
        return OnnxExporter.Write(proto, path, writer.Scheme, writer.Int8Layers, writer.Fp32Layers);
    }

    /// <summary>The float32 graph as an in-memory ONNX model.</summary>
    public static ModelProto BuildFp32(SequenceClassifier classifier, OnnxExportOptions? options = null)
    {
        options = (options ?? new OnnxExportOptions()).Validate();
        var weights = Weights(classifier);
        return Build(classifier.Config, weights, new Fp32WeightWriter(weights), options);
    }

    /// <summary>The INT8 graph as an in-memory ONNX model.</summary>
    public static ModelProto BuildInt8(SequenceClassifier classifier, QuantizedModel quantized, OnnxExportOptions? options = null) =>
        BuildInt8Core(classifier, quantized, options).Model;

    static (ModelProto Model, Int8WeightWriter Writer) BuildInt8Core(SequenceClassifier classifier, QuantizedModel quantized, OnnxExportOptions? options)
    {
        options = (options ?? new OnnxExportOptions()).Validate();
        var weights = Weights(classifier);
        var writer = OnnxExporter.Int8Writer(weights, ClassifierQuantizer.EncoderNames(quantized), options, LinearNames(classifier.Config));
        return (Build(classifier.Config, weights, writer, options), writer);
    }

    /// <summary>The Linear layers of the graph under the encoder's names: the encoder's, then pooler.dense and classifier.</summary>
    public static IReadOnlyList<string> LinearNames(ClassifierConfig c) =>
        [.. OnnxExporter.LinearNames(c.Encoder), Int8ClassifierWeights.PoolerName, Int8ClassifierWeights.ClassifierName];

    // The classifier's tensors under the encoder's names ("bert." dropped), as the graph writers look them up.
    static WeightTable Weights(SequenceClassifier classifier) =>
        new(classifier.Model.state_dict().Select(kv => KeyValuePair.Create(ClassifierQuantizer.EncoderName(kv.Key), kv.Value)), "ONNX classifier export");

    static ModelProto Build(ClassifierConfig config, WeightTable weights, IOnnxWeightWriter writer, OnnxExportOptions options)
    {
        var g = new OnnxGraphBuilder();
        var (hidden, _) = BertOnnxGraph.Encoder(g, config.Encoder, weights, writer);
        string cls = BertOnnxGraph.Cls(g, hidden);                                                         // (B, H)
        string pooled = g.Node("Tanh", [writer.Linear(g, Int8ClassifierWeights.PoolerName, cls)], "pooler/tanh"); // (B, H)
        string logits = writer.Linear(g, Int8ClassifierWeights.ClassifierName, pooled);                    // (B, C)
        g.Output(logits, "logits", DataType.Float, "batch", config.NumLabels.ToString());
        var model = g.Build("bert_sequence_classifier", options.Opset, OnnxExporter.Producer);
        // The labels travel with the file, as transformers' id2label (class id → name).
        model.MetadataProps.Add(new StringStringEntryProto
        {
            Key = "id2label",
            Value = System.Text.Json.JsonSerializer.Serialize(config.Labels.Select((l, i) => (l, i)).ToDictionary(x => x.i.ToString(), x => x.l)),
        });
        var c = config.Encoder;
        model.Graph.DocString = $"BERT sequence classifier: {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads, " +
                                $"ffn {c.IntermediateSize}, {c.HiddenAct}; logits over {config.NumLabels} labels: {string.Join(", ", config.Labels)}";
        return model;
    }
}
