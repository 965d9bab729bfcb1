using DistillSharp.Models.Classifier;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Quantization.Classifier;

/// <summary>
/// Post-training INT8 quantization of a sequence classifier — every Linear of the encoder, the
/// pooler and the classifier — calibrated on real text, and the quantized copy that computes what
/// the INT8 model computes. Layer names are the model's module paths (<c>bert.encoder.layer.0…</c>,
/// <c>bert.pooler.dense</c>, <c>classifier</c>); <see cref="EncoderNames"/> gives the names the
/// encoder-shaped consumers (INT8 runtime, ONNX export) use.
/// </summary>
public static class ClassifierQuantizer
{
    /// <summary>The prefix transformers gives the encoder inside a BertForSequenceClassification.</summary>
    public const string EncoderPrefix = "bert.";

    /// <summary>Quantizes <paramref name="classifier"/>; static modes calibrate on <paramref name="calibrationTexts"/>.</summary>
    public static QuantizedModel Quantize(SequenceClassifier classifier, QuantizeConfig config, IReadOnlyList<string> calibrationTexts, int batchSize = 16)
    {
        var batches = calibrationTexts.Chunk(batchSize).Take(config.CalibBatches)
            .Select(chunk => EncoderQuantizer.Pack(classifier.Tokenizer.EncodeBatch(chunk))).ToList();
        try
        {
            classifier.Model.eval();
            using var noGrad = no_grad();
            return new PostTrainingQuantizer(config.ToPtqOptions()).Quantize(classifier.Model, batches,
                (_, packed) => classifier.Model.Forward(packed[0], packed[1]).Logits!);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>A copy of the classifier whose Linear layers run the quantized arithmetic.</summary>
    public static SequenceClassifier Simulated(SequenceClassifier classifier, QuantizedModel quantized)
    {
        var copy = new BertForSequenceClassification(classifier.Config);
        using (no_grad())
            foreach (var (name, p) in copy.state_dict()) p.copy_(classifier.Model.state_dict()[name]);
        QuantizedLinearSimulation.Apply(copy, quantized);
        copy.eval();
        return new SequenceClassifier(copy, classifier.Tokenizer, classifier.Source + " (int8)");
    }

    /// <summary>The same layers under the encoder's names: <c>bert.</c> dropped, <c>classifier</c> kept.</summary>
    public static QuantizedModel EncoderNames(QuantizedModel quantized) => quantized with
    {
        Layers = quantized.Layers.Values.Select(l => l with { Name = EncoderName(l.Name) }).ToDictionary(l => l.Name, StringComparer.Ordinal),
    };

    /// <summary>A module path of the classifier as the encoder names it.</summary>
    public static string EncoderName(string name) => name.StartsWith(EncoderPrefix, StringComparison.Ordinal) ? name[EncoderPrefix.Length..] : name;
}
