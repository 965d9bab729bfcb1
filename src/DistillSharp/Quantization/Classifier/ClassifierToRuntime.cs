using DistillSharp.Models.Classifier;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Quantization.Classifier;

/// <summary>From a TorchSharp <see cref="SequenceClassifier"/> to the INT8 classifier runtime (which does not know libtorch).</summary>
public static class ClassifierToRuntime
{
    /// <summary>
    /// The runtime's weights: every float tensor except the quantized Linears, under the encoder's
    /// names (<see cref="ClassifierQuantizer.EncoderNames"/>), the pooler and classifier included.
    /// <paramref name="quantized"/> carries the classifier's module paths.
    /// </summary>
    public static Int8ClassifierWeights Weights(SequenceClassifier classifier, QuantizedModel quantized)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(quantized);
        var encoderNamed = ClassifierQuantizer.EncoderNames(quantized);
        var skip = encoderNamed.Layers.Keys.SelectMany(n => new[] { n + ".weight", n + ".bias" }).ToHashSet();
        var fp32 = new Dictionary<string, FloatTensor>();
        using (var scope = NewDisposeScope())
            foreach (var (name, t) in classifier.Model.state_dict())
            {
                string key = ClassifierQuantizer.EncoderName(name);
                if (!skip.Contains(key)) fp32[key] = EncoderToRuntime.ToFloat(t);
            }
        var encoder = new Int8EncoderWeights(classifier.Config.Encoder, fp32, encoderNamed, classifier.Tokenizer, Pooling.Cls, Normalize: false,
            classifier.Source + " (int8 runtime)");
        return new Int8ClassifierWeights(encoder, classifier.Config).Validate();
    }

    /// <summary>The runtime of <paramref name="classifier"/> quantized as <paramref name="quantized"/>.</summary>
    public static Int8Classifier Build(SequenceClassifier classifier, QuantizedModel quantized, Int8EncoderOptions? options = null) =>
        new(Weights(classifier, quantized), options);
}
