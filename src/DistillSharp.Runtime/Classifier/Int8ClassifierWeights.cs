using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Runtime.Classifier;

/// <summary>
/// Everything an <see cref="Int8Classifier"/> is built from: the encoder's runtime weights (with
/// the head's two Linears, <c>pooler.dense</c> and <c>classifier</c>, among its float tensors or in
/// its quantized model, under the encoder's names without transformers' <c>bert.</c> prefix) and
/// the classifier's config (labels).
/// </summary>
public sealed record Int8ClassifierWeights(Int8EncoderWeights Encoder, ClassifierConfig Config)
{
    /// <summary>Name of the pooler's Linear (tanh(W·h[CLS] + b)).</summary>
    public const string PoolerName = "pooler.dense";

    /// <summary>Name of the classifier's Linear ([C, H]).</summary>
    public const string ClassifierName = "classifier";

    /// <summary>Checks the encoder, that both configs describe the same encoder, and the head's shapes.</summary>
    public Int8ClassifierWeights Validate()
    {
        Encoder.Validate();
        if (Encoder.Config != Config.Encoder)
            throw new DistillSharpException($"{Encoder.Source}: the classifier config describes another encoder than the weights' config");
        int h = Encoder.Config.HiddenSize;
        Encoder.Linear(PoolerName, h, h);
        Encoder.Linear(ClassifierName, Config.NumLabels, h);
        return this;
    }
}
